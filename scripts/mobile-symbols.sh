#!/usr/bin/env bash
# The checks `make mobile` runs on the libraries it cross-builds (llvm-nm, llvm-readelf,
# llvm-objdump from the mobile toolchain on the PATH):
#   stubs <triple> <dir>      the stand-ins for the NDK's stub libraries, generated from
#                             tests/mobile/android-undefined-symbols.txt, as the NDK's
#                             are generated from bionic's symbol maps
#   check <triple> <.so>      the Android library: exports, NEEDED, undefined symbols
#   check-apple <triple> <.a> the iOS static library: exports, architecture, platform
#   sizes <.so> <.a>          the size table (Markdown)
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/mobile-targets.sh
. scripts/mobile-targets.sh
allowed=tests/mobile/android-undefined-symbols.txt
# The libraries every Android version lets an app's native code link (the NDK's
# "stable APIs"); libunwind and compiler-rt come statically from the NDK instead.
android_libs="libc.so libm.so libdl.so liblog.so"

fail() { echo "FAILED: $*" >&2; exit 1; }

# The symbols the Kotlin and Swift code calls: every UniFFI function the generated
# bindings declare, JNA's direct mappings in the Android library (LeaseCheck) and the JNI
# entry point of RefreshKitAndroid.
required_symbols() {
  grep -ho '\b\(uniffi_refreshkit_[a-z_0-9]*\|ffi_refreshkit_[a-z_0-9]*\)' \
    bindings/kotlin/dev/refreshkit/refreshkit.kt bindings/swift/RefreshKitFFI.h
  local f pkg cls
  for f in $(grep -rl 'external fun' android/refreshkit/src/main/kotlin); do
    if grep -q 'Native.register' "$f"; then
      sed -n 's/.*external fun \([A-Za-z_0-9]*\).*/\1/p' "$f"
    else
      pkg=$(sed -n 's/^package \(.*\)/\1/p' "$f"); cls=$(basename "$f" .kt)
      sed -n 's/.*external fun \([A-Za-z_0-9]*\).*/\1/p' "$f" | sed "s/^/Java_${pkg//./_}_${cls}_/"
    fi
  done
}

# "symbol provider api [weak]" lines of the allowlist, comments dropped.
allowlist() { sed -e 's/#.*//' -e '/^[[:space:]]*$/d' "$allowed"; }

stubs() {
  local triple=$1 dir=$2 clang_target lib
  clang_target=$(refreshkit_android_clang_target "$triple")
  rm -rf "$dir"; mkdir -p "$dir"
  for lib in $android_libs; do
    allowlist | awk -v lib="${lib%.so}" '$2 == lib { print "void " $1 "(void) {}" }' > "$dir/${lib%.so}.c"
    clang --target="$clang_target" -shared -nostdlib -fuse-ld=lld -Wno-builtin-requires-header \
      -Wno-incompatible-library-redeclaration -fno-builtin -o "$dir/$lib" -Wl,-soname,"$lib" "$dir/${lib%.so}.c"
  done
  # libunwind is a static library in the NDK (r23 and later): an empty one here, so the
  # unwinder's symbols stay visible as undefined and are checked against the list.
  llvm-ar rc "$dir/libunwind.a"
}

check_android() {
  local triple=$1 so=$2 machine missing needed extra undef lib
  [ -f "$so" ] || fail "$so was not built"
  case "$triple" in aarch64-*) machine=AArch64 ;; armv7-*) machine=ARM ;; x86_64-*) machine="X86-64|Advanced Micro Devices X86-64" ;; esac
  # (Outputs are kept in variables: grep -q would end a pipe early, and pipefail is on.)
  local header dynamic
  header=$(llvm-readelf -h "$so"); dynamic=$(llvm-readelf -d "$so")
  grep -Eq "Machine: +($machine)" <<< "$header" || fail "$so is not a $machine object"
  grep -q 'Type: *DYN' <<< "$header" || fail "$so is not a shared object"

  # 1. Exported: everything Kotlin and Swift call.
  missing=$(comm -23 <(required_symbols | sort -u) <(llvm-nm -D --defined-only -j "$so" | sort -u))
  [ -z "$missing" ] || fail "not exported by $so: $missing"
  echo "exported: all $(required_symbols | sort -u | wc -l) symbols the bindings, LeaseCheck and RefreshKitAndroid call (Java_dev_refreshkit_android_RefreshKitAndroid_nativeInit among them)"

  # 2. NEEDED: only libraries Android gives every app.
  needed=$(sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p' <<< "$dynamic" | sort)
  for lib in $needed; do
    case " $android_libs " in *" $lib "*) ;; *) fail "$so needs $lib, which Android does not provide to apps" ;; esac
  done
  echo "NEEDED: $(echo $needed) (all provided by Android)"
  if grep -q TEXTREL <<< "$dynamic"; then fail "$so has text relocations (refused since API 23)"; fi

  # 3. Undefined symbols: within the list, each from a library above, at an API level the
  #    library supports (the level bionic's symbol maps give, recorded in the list).
  undef=$(llvm-nm -D --undefined-only -j "$so" | sed 's/@.*//' | sort -u)
  extra=$(comm -23 <(echo "$undef") <(allowlist | awk '{print $1}' | sort -u))
  [ -z "$extra" ] || fail "undefined symbols not in $allowed (check them against bionic's maps, then add them): $(echo $extra)"
  # Newer than our API level: only as a weak reference (null where bionic lacks it), in
  #    the list and in the library.
  local late weak s
  weak=$(llvm-nm -D --undefined-only "$so" | awk '$1 == "w" { sub(/@.*/, "", $2); print $2 }')
  late=$(allowlist | awk -v api="$REFRESHKIT_ANDROID_API" '$3 != "-" && $3 + 0 > api { print $1 " " $4 }')
  while read -r s w; do
    [ -n "$s" ] || continue
    [ "$w" = weak ] || fail "$s is listed as newer than API $REFRESHKIT_ANDROID_API and not weak"
    grep -qx "$s" <<< "$weak" || fail "$s (newer than API $REFRESHKIT_ANDROID_API) is referenced strongly: dlopen would fail on older Android"
  done <<< "$late"
  echo "undefined: $(echo "$undef" | wc -l) symbols, all in $allowed; all in bionic at API $REFRESHKIT_ANDROID_API except the weak $(echo $(echo "$late" | awk '{print $1}'))"
  # 4. LOAD segments aligned for 16 KB pages (Android 15 devices; Google Play requires it).
  local align
  for align in $(llvm-readelf -lW "$so" | awk '$1 == "LOAD" { print $NF }'); do
    [ $((align)) -ge 16384 ] || fail "$so has a LOAD segment aligned to $((align)) bytes, below 16 KB"
  done
  echo "LOAD segments aligned to 16 KB or more"
}

check_apple() {
  local triple=$1 lib=$2 missing
  [ -f "$lib" ] || fail "$lib was not built"
  # Mach-O arm64 objects for iOS (not the simulator), for the deployment target above.
  llvm-objdump --macho --private-headers "$lib" > /tmp/refreshkit-macho.$$ 2>/dev/null || true
  grep -q 'ARM64' /tmp/refreshkit-macho.$$ || { rm -f /tmp/refreshkit-macho.$$; fail "$lib holds no arm64 Mach-O objects"; }
  local platforms
  platforms=$(awk '/cmd LC_BUILD_VERSION/ { b = 1 } b && /platform/ { p = $2 } b && /minos/ { print p " " $2; b = 0 }' /tmp/refreshkit-macho.$$ | sort -u)
  rm -f /tmp/refreshkit-macho.$$
  case "$triple" in *-sim) want="iossimulator|7" ;; *-ios) want="ios|2" ;; esac
  [ -n "$platforms" ] || fail "$lib: no LC_BUILD_VERSION"
  grep -Eivq "^($want) $IPHONEOS_DEPLOYMENT_TARGET$" <<< "$platforms" &&
    fail "$lib: objects for another platform or iOS version than $want $IPHONEOS_DEPLOYMENT_TARGET: $(echo $platforms)"
  echo "Mach-O arm64, platform and minimum iOS: $(echo "$platforms" | tr '\n' ' ')"
  missing=$(comm -23 <(required_symbols | grep -v '^Java_' | grep -vx 'refreshkit_token_lease_is_current' | sed 's/^/_/' | sort -u) \
    <(llvm-nm --defined-only --extern-only -j "$lib" 2>/dev/null | sort -u))
  [ -z "$missing" ] || fail "not exported by $lib: $missing"
  echo "exported: every UniFFI symbol of RefreshKitFFI.h"
}

sizes() {
  local so=$1 a=$2 tmp so_bytes a_bytes a_debugless code
  tmp=$(mktemp -d)
  llvm-strip --strip-all -o "$tmp/so" "$so"
  llvm-strip --strip-debug -o "$tmp/a" "$a"
  so_bytes=$(stat -c %s "$tmp/so"); a_bytes=$(stat -c %s "$a"); a_debugless=$(stat -c %s "$tmp/a")
  # What the archive can add to an app at most: the sections that reach an app (code,
  # constants, data, unwind tables), before the app's linker drops what is not called.
  # Not counted: debug info, embedded bitcode, and __compact_unwind, which the linker
  # turns into a much smaller __unwind_info.
  code=$(llvm-size -A "$a" 2>/dev/null | awk '$1 ~ /^__/ && $1 !~ /^__(debug|apple|bitcode|cmdline|compact_unwind)/ && $2 ~ /^[0-9]+$/ { s += $2 } END { print s + 0 }')
  rm -rf "$tmp"
  mib() { awk -v b="$1" 'BEGIN { printf "%.2f", b / 1048576 }'; }
  echo "| target | artifact | bytes | MiB | goal |"
  echo "|---|---|---:|---:|---|"
  echo "| aarch64-linux-android | librefreshkit.so, stripped | $so_bytes | $(mib "$so_bytes") | ≤ 2.5 MiB |"
  echo "| aarch64-apple-ios | librefreshkit.a, debug info stripped | $a_debugless | $(mib "$a_debugless") | |"
  echo "| aarch64-apple-ios | code, data and unwind tables in it (before dead-stripping) | $code | $(mib "$code") | |"
  # The budget of issue 12: the stripped aarch64 Android library within 2.5 MiB.
  [ "$so_bytes" -le $((5 * 1048576 / 2)) ] || fail "the Android library is over its 2.5 MiB budget"
}

case "${1:-}" in
  stubs) stubs "$2" "$3" ;;
  check) check_android "$2" "$3" ;;
  check-apple) check_apple "$2" "$3" ;;
  sizes) sizes "$2" "$3" ;;
  *) echo "usage: $0 stubs|check|check-apple|sizes ..." >&2; exit 2 ;;
esac
