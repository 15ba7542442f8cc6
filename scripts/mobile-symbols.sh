#!/usr/bin/env bash
# The checks `make mobile` runs on the libraries it cross-builds (llvm-nm, llvm-readelf,
# llvm-objdump from the mobile toolchain on the PATH):
#   stubs <triple> <dir>      the stand-ins for the NDK's stub libraries, generated from
#                             tests/mobile/android-undefined-symbols.txt, as the NDK's
#                             are generated from bionic's symbol maps
#   check <triple> <.so>      the Android library: exports, NEEDED, undefined symbols
#   check-apple <triple> <.a> an Apple static library as built: check-apple-arch for its target
#   check-apple-arch <.a> <arch> <platform> <minos> <header>
#                             one architecture of a thin or fat Apple static library (an
#                             XCFramework slice): objects, platform, exports of <header>
#   sizes                     the size table (Markdown) of every library built
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
  # libunwind is a static library in the NDK (r23 and later), linked into the .so: LLVM's,
  # built for the target by scripts/android-unwinder.sh.
  scripts/android-unwinder.sh "$triple" "$dir"
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
  echo "exported: all $(required_symbols | sort -u | wc -l) symbols the bindings, the direct calls (LeaseCheck, EncodedCalls) and RefreshKitAndroid use (Java_dev_refreshkit_android_RefreshKitAndroid_nativeInit among them)"

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
  # 4. The unwinder is the library's own: linked in, not exported (two copies in one
  #    process would each see only their own frames).
  local exported_unwinder
  exported_unwinder=$(llvm-nm -D --defined-only -j "$so" | grep -E '^(_Unwind_|__gnu_unwind_)' || true)
  [ -z "$exported_unwinder" ] || fail "$so exports the unwinder: $(echo $exported_unwinder)"
  echo "unwinder linked in and not exported"
  # 5. LOAD segments aligned for 16 KB pages on 64-bit ABIs (Android 15 devices with 16 KB
  #    pages are all 64-bit; Google Play requires it of arm64-v8a and x86_64).
  case "$triple" in armv7-*) return ;; esac
  local align
  for align in $(llvm-readelf -lW "$so" | awk '$1 == "LOAD" { print $NF }'); do
    [ $((align)) -ge 16384 ] || fail "$so has a LOAD segment aligned to $((align)) bytes, below 16 KB"
  done
  echo "LOAD segments aligned to 16 KB or more"
}

# The architecture, platform (as llvm-objdump names it) and minimum OS version a
# target's objects must carry.
apple_expectations() {
  case "$1" in
    aarch64-apple-ios) echo "arm64 ios $IPHONEOS_DEPLOYMENT_TARGET" ;;
    aarch64-apple-ios-sim) echo "arm64 iossimulator $IPHONEOS_DEPLOYMENT_TARGET" ;;
    x86_64-apple-ios) echo "x86_64 iossimulator $IPHONEOS_DEPLOYMENT_TARGET" ;;
    aarch64-apple-darwin) echo "arm64 macos $MACOSX_DEPLOYMENT_TARGET" ;;
    x86_64-apple-darwin) echo "x86_64 macos $MACOSX_DEPLOYMENT_TARGET" ;;
    *) fail "no Apple expectations for $1" ;;
  esac
}

# One target's static library as built: the checks of an XCFramework slice's architecture
# (below), against the committed header.
check_apple() {
  local triple=$1 lib=$2 arch platform minos
  [ -f "$lib" ] || fail "$lib was not built"
  read -r arch platform minos <<< "$(apple_expectations "$triple")"
  check_apple_arch "$lib" "$arch" "$platform" "$minos" bindings/swift/RefreshKitFFI.h
}

# One architecture of an Apple static library, thin or fat (llvm-lipo), as an XCFramework
# slice ships it: every object in it is a Mach-O object of ARCH (arm64, x86_64) with one
# LC_BUILD_VERSION, for PLATFORM (ios, iossimulator, macos: as llvm-objdump names them) and
# minimum OS version MINOS; and it defines every uniffi_refreshkit_*/ffi_refreshkit_*
# function HEADER (the slice's RefreshKitFFI.h) declares.
check_apple_arch() {
  local lib=$1 arch=$2 platform=$3 minos=$4 header=$5 tmp cputype number objects bad missing wanted
  [ -f "$lib" ] || fail "$lib does not exist"
  [ -f "$header" ] || fail "$header does not exist"
  case "$arch" in arm64) cputype=ARM64 ;; x86_64) cputype=X86_64 ;; *) fail "unknown architecture $arch" ;; esac
  case "$platform" in macos) number=1 ;; ios) number=2 ;; iossimulator) number=7 ;; *) fail "unknown platform $platform" ;; esac
  tmp=$(mktemp -d)
  # (llvm-objdump and llvm-nm report a missing architecture on stderr, with status 0.)
  llvm-objdump --macho --private-headers --arch="$arch" "$lib" > "$tmp/headers" 2> "$tmp/err" || true
  [ ! -s "$tmp/err" ] || { bad=$(head -n 1 "$tmp/err"); rm -rf "$tmp"; fail "$lib: no $arch objects (llvm-objdump --arch=$arch: $bad)"; }
  # One line per object: name, CPU type, then "platform minos" for each LC_BUILD_VERSION.
  awk '/\(.*\):$/ { if (o != "") print o " " c b; o = $0; sub(/.*\(/, "", o); sub(/\):$/, "", o); c = "-"; b = ""; next }
    /^Mach header/ { h = 1; next } h && /^ *MH_MAGIC/ { c = $2; h = 0 }
    /cmd LC_BUILD_VERSION/ { v = 1 } v && $1 == "platform" { p = $2 } v && $1 == "minos" { b = b " " p "/" $2; v = 0 }
    END { if (o != "") print o " " c b }' "$tmp/headers" > "$tmp/objects"
  objects=$(wc -l < "$tmp/objects")
  [ "$objects" -gt 0 ] || { rm -rf "$tmp"; fail "$lib ($arch): no objects"; }
  # Right: the CPU type, and exactly one build version, naming the platform by name or number.
  bad=$(awk -v c="$cputype" -v p1="$platform/$minos" -v p2="$number/$minos" 'NF != 3 || $2 != c || ($3 != p1 && $3 != p2)' "$tmp/objects")
  [ -z "$bad" ] || { rm -rf "$tmp"; fail "$lib ($arch): $(wc -l <<< "$bad") of $objects objects are not $cputype for $platform ($number) $minos; object CPU platform/minos (per LC_BUILD_VERSION): $(head -n 3 <<< "$bad" | paste -sd ';' -)"; }
  grep -o '\b\(uniffi_refreshkit_[a-z_0-9]*\|ffi_refreshkit_[a-z_0-9]*\)' "$header" | sed 's/^/_/' | sort -u > "$tmp/wanted"
  wanted=$(wc -l < "$tmp/wanted")
  [ "$wanted" -gt 0 ] || { rm -rf "$tmp"; fail "$header declares no uniffi_refreshkit_*/ffi_refreshkit_* function"; }
  llvm-nm --arch="$arch" --defined-only --extern-only -j "$lib" 2>/dev/null | sort -u > "$tmp/defined" || true
  missing=$(comm -23 "$tmp/wanted" "$tmp/defined")
  rm -rf "$tmp"
  [ -z "$missing" ] || fail "$lib ($arch) does not define $(echo "$missing" | wc -l) of the $wanted functions $header declares: $(tr '\n' ' ' <<< "$missing" | cut -c1-300)"
  echo "$arch: $objects Mach-O $cputype objects, each for $platform ($number) $minos; defines all $wanted functions of $(basename "$header")"
}

# The size table (Markdown) of every library scripts/mobile.sh built.
sizes() {
  local tmp t f bytes code profile_dir
  profile_dir=$(refreshkit_profile_dir)
  tmp=$(mktemp -d)
  mib() { awk -v b="$1" 'BEGIN { printf "%.2f", b / 1048576 }'; }
  echo "| target | artifact | bytes | MiB | goal |"
  echo "|---|---|---:|---:|---|"
  for t in "${REFRESHKIT_ANDROID_TARGETS[@]}" "${REFRESHKIT_JVM_TARGETS[@]}"; do
    f=target/$t/$profile_dir/librefreshkit.so
    [ -f "$f" ] || continue
    llvm-strip --strip-all -o "$tmp/so" "$f"
    bytes=$(stat -c %s "$tmp/so")
    if [ "$t" = aarch64-linux-android ]; then
      echo "| $t | librefreshkit.so, stripped | $bytes | $(mib "$bytes") | ≤ 2.5 MiB |"
      # The budget of issue 12: the stripped aarch64 Android library within 2.5 MiB.
      [ "$bytes" -le $((5 * 1048576 / 2)) ] || fail "the Android library is over its 2.5 MiB budget"
    else
      echo "| $t | librefreshkit.so, stripped | $bytes | $(mib "$bytes") | |"
    fi
  done
  for t in "${REFRESHKIT_IOS_TARGETS[@]}" "${REFRESHKIT_MACOS_TARGETS[@]}"; do
    f=target/$t/$profile_dir/librefreshkit.a
    [ -f "$f" ] || continue
    llvm-strip --strip-debug -o "$tmp/a" "$f"
    bytes=$(stat -c %s "$tmp/a")
    # What the archive can add to an app at most: the sections that reach an app (code,
    # constants, data, unwind tables), before the app's linker drops what is not called.
    # Not counted: debug info, embedded bitcode, and __compact_unwind, which the linker
    # turns into a much smaller __unwind_info.
    code=$(llvm-size -A "$f" 2>/dev/null | awk '$1 ~ /^__/ && $1 !~ /^__(debug|apple|bitcode|cmdline|compact_unwind)/ && $2 ~ /^[0-9]+$/ { s += $2 } END { print s + 0 }')
    echo "| $t | librefreshkit.a, debug info stripped | $bytes | $(mib "$bytes") | |"
    echo "| $t | code, data and unwind tables in it (before dead-stripping) | $code | $(mib "$code") | |"
  done
  rm -rf "$tmp"
}

case "${1:-}" in
  stubs) stubs "$2" "$3" ;;
  check) check_android "$2" "$3" ;;
  check-apple) check_apple "$2" "$3" ;;
  check-apple-arch) check_apple_arch "$2" "$3" "$4" "$5" "$6" ;;
  sizes) sizes ;;
  *) echo "usage: $0 stubs|check|check-apple|check-apple-arch|sizes ..." >&2; exit 2 ;;
esac
