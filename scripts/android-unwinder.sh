#!/usr/bin/env bash
# Usage: scripts/android-unwinder.sh <rust-triple> <out-dir>
# Builds <out-dir>/libunwind.a, the unwinder the Android library links statically (as the
# NDK links LLVM's libunwind into every .so), for one Android target, on a Linux machine
# without the NDK: without it the _Unwind_* functions std's panics and backtraces call
# stay undefined, and no Android library provides them.
# The source is LLVM's libunwind (11.0.0) as Debian ships it in the emscripten package,
# downloaded once into a cache next to the mobile toolchain's; it is compiled with the
# toolchain's clang (on the PATH, with llvm-ar: scripts/mobile-toolchain.sh) against
# scripts/android-unwinder/, a stand-in for the few bionic headers it includes. What it
# calls in bionic is in tests/mobile/android-undefined-symbols.txt.
set -euo pipefail
[ $# = 2 ] || { echo "usage: $0 <rust-triple> <out-dir>" >&2; exit 2; }
triple=$1
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=scripts/mobile-targets.sh
. "$here/mobile-targets.sh"
refreshkit_android_abi "$triple" >/dev/null # an Android target, or a message and exit
clang_target=$(refreshkit_android_clang_target "$triple")
headers=$here/android-unwinder
mkdir -p "$2"
out=$(cd "$2" && pwd)

src=${REFRESHKIT_MOBILE_TOOLCHAIN:-/var/cache/refreshkit-mobile-toolchain}.unwind-src
lu=$src/usr/share/emscripten/system/lib/libunwind
if [ ! -f "$src/.refreshkit-ready" ]; then
  [ "$(id -u)" = 0 ] || { echo "android-unwinder.sh: needs root (apt-get) to fetch the source" >&2; exit 1; }
  mkdir -p "$src"
  # Worktrees share the directory: one unpacks, the others wait for it.
  exec 9>"$src.lock"
  flock 9
  if [ ! -f "$src/.refreshkit-ready" ]; then
    apt-cache show emscripten >/dev/null 2>&1 || apt-get update -qq >&2
    rm -rf "$src"; mkdir -p "$src"
    # 109 MB, of which only libunwind's sources (under 1 MB) are kept.
    (cd "$src" && apt-get download -qq -o APT::Sandbox::User=root emscripten >&2)
    dpkg-deb --fsys-tarfile "$src"/emscripten_*.deb | tar -x -C "$src" --wildcards '*system/lib/libunwind*'
    rm -f "$src"/emscripten_*.deb
    head -n 1 "$lu/readme.txt" > "$src/.refreshkit-ready"
  fi
  exec 9>&-
fi

obj=$(mktemp -d)
trap 'rm -rf "$obj"' EXIT
# The sources of LLVM's own build (src/CMakeLists.txt) but Windows' Unwind-seh.cpp:
# Unwind-EHABI.cpp is the 32-bit ARM unwinder, empty elsewhere; Unwind-sjlj.c is empty here.
for f in libunwind.cpp Unwind-EHABI.cpp UnwindLevel1.c UnwindLevel1-gcc-ext.c Unwind-sjlj.c \
         UnwindRegistersSave.S UnwindRegistersRestore.S; do
  case $f in
    *.cpp) x=(-std=c++11 -fno-exceptions -fno-rtti -nostdinc++ -funwind-tables) ;;
    *.c) x=(-std=c99 -funwind-tables) ;;
    *) x=() ;;
  esac
  # No libc headers but the stand-ins (-ffreestanding -nostdlibinc keeps only clang's own);
  # NDEBUG as in the NDK's release build: no assertions and no debug logging (getenv).
  # Hidden but for the unwinder's API (_Unwind_*, unw_*), which rustc's version script
  # then keeps out of the .so's exports. Optimised for size, one section per function, so
  # the link keeps only what Rust's unwinding calls (the .so has a size budget).
  clang --target="$clang_target" -Os -ffunction-sections -fdata-sections -fPIC -ffreestanding -nostdlibinc -isystem "$headers" \
    -I"$lu/include" -DNDEBUG -D_LIBUNWIND_IS_NATIVE_ONLY -fvisibility=hidden "${x[@]}" \
    -c "$lu/src/$f" -o "$obj/${f%.*}.o"
done
rm -f "$out/libunwind.a"
llvm-ar rcs "$out/libunwind.a" "$obj"/*.o
echo "$out/libunwind.a"
