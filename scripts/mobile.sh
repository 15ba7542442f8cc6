#!/usr/bin/env bash
# `make mobile`: builds the Rust core for the phones it ships to, on a Linux machine with
# neither the NDK nor Xcode, and checks what it built:
#   - cargo check of the library for every Android ABI and the iOS device and simulator;
#   - the release cdylib for aarch64-linux-android (linked with lld) and the release
#     staticlib for aarch64-apple-ios, left in target/<triple>/release/;
#   - the symbol checks of scripts/mobile-symbols.sh, and a size table;
#   - the Android flavour of the Kotlin bindings compiled with the Android library's
#     Kotlin (tests/mobile/android, Maven), KeystoreTokenStore and KeystoreDpopKey (also
#     against the auth server with --dpop) run on Robolectric, and
#     ObservableSession with the OkHttp interceptor driven from Robolectric's main looper
#     against the auth server;
#   - the Swift Keychain code compiled against the in-memory stub Security module and its
#     logic run (scripts/swift-keychain-checks.sh, also part of make test).
# Installs what it needs (scripts/mobile-toolchain.sh, Maven). The targets and flags come
# from scripts/mobile-targets.sh, shared with android/build-rust.sh and
# ios/build-xcframework.sh. `scripts/mobile.sh rust|kotlin|swift` runs one part.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$(pwd)
part=${1:-all}
# shellcheck source=scripts/mobile-targets.sh
. scripts/mobile-targets.sh
step() { printf '\n==> %s\n' "$*"; }
started=$(date +%s)

work=$repo/target/mobile
mkdir -p "$work"
# What `make mobile` checks: every Android ABI and the iOS device and Apple-silicon
# simulator (x86_64-apple-ios shares its code with aarch64-apple-ios-sim).
check_targets=("${REFRESHKIT_ANDROID_TARGETS[@]}" aarch64-apple-ios aarch64-apple-ios-sim)
android_lib_target=aarch64-linux-android
ios_lib_target=aarch64-apple-ios
profile_dir=$(refreshkit_profile_dir)

# --- The toolchain: Debian's rustc 1.96 with its std source, and LLVM 22 --------------
toolchain() {
  step "toolchain: Debian's rustc-web with rust-web-src, clang/lld/llvm 22 (apt, unpacked)"
  local root
  root=$(scripts/mobile-toolchain.sh | tail -n 1)
  export PATH="$root/usr/bin:$root/usr/lib/llvm-22/bin:$PATH"
  export LD_LIBRARY_PATH="$root/usr/lib/x86_64-linux-gnu:$root/usr/lib/llvm-22/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
  export RUSTC=$root/usr/bin/rustc CARGO=$root/usr/bin/cargo RUSTDOC=$root/usr/bin/rustdoc
  # -Zbuild-std is unstable: the std of every target is built from Debian's source.
  export RUSTC_BOOTSTRAP=1
  # rustup's proxies must not pick another compiler for this tree.
  unset RUSTUP_TOOLCHAIN
  "$RUSTC" -V
  clang --version | head -n 1
}

# --- Per-target settings for ring's C code and the Android link ------------------------
env_for_targets() {
  local t u clang_target
  for t in "${REFRESHKIT_ANDROID_TARGETS[@]}"; do
    u=${t//-/_}
    clang_target=$(refreshkit_android_clang_target "$t")
    export "CC_$u=clang" "AR_$u=llvm-ar"
    # ring's own mode for building without libc headers; no NDK sysroot here.
    export "CFLAGS_$u=--target=$clang_target -ffreestanding -nostdlibinc -DRING_CORE_NOSTDLIBINC=1"
    # The linker: clang driving lld (named *-clang: rustc picks the linker flavour by name), against the stub libraries of scripts/mobile-symbols.sh
    # (the NDK's are generated from bionic's symbol lists in the same way).
    mkdir -p "$work/bin"
    cat > "$work/bin/$t-clang" <<LD
#!/bin/sh
exec clang --target=$clang_target -fuse-ld=lld -nostartfiles -L"$work/stubs/$t" "\$@"
LD
    chmod +x "$work/bin/$t-clang"
    export "CARGO_TARGET_$(echo "$u" | tr a-z A-Z)_LINKER=$work/bin/$t-clang"
  done
  mkdir -p "$work/empty-sdk"
  for t in "${REFRESHKIT_IOS_TARGETS[@]}"; do
    u=${t//-/_}
    export "CC_$u=clang" "AR_$u=llvm-ar"
    export "CFLAGS_$u=-ffreestanding -nostdlibinc -DRING_CORE_NOSTDLIBINC=1 -isystem $repo/tests/mobile/include"
  done
  # The cc crate asks xcrun for the SDK unless SDKROOT names one; ring needs none of it.
  export SDKROOT=$work/empty-sdk
}

cargo_mobile() { "$CARGO" "$@" -Zbuild-std; }

run_rust() {
  toolchain
  env_for_targets
  local t
  for t in "${check_targets[@]}"; do
    step "cargo check --target $t"
    cargo_mobile check --quiet -p refreshkit --lib --target "$t"
  done
  step "release cdylib for $android_lib_target (lld)"
  scripts/mobile-symbols.sh stubs "$android_lib_target" "$work/stubs/$android_lib_target"
  # cargo does not see the stub libraries: relink every time, so the link is against these.
  rm -f "target/$android_lib_target/$profile_dir/librefreshkit.so" "target/$android_lib_target/$profile_dir/deps/librefreshkit.so"
  cargo_mobile rustc --quiet "${REFRESHKIT_LIB_ARGS[@]}" --crate-type cdylib --target "$android_lib_target"
  step "release staticlib for $ios_lib_target"
  cargo_mobile rustc --quiet "${REFRESHKIT_LIB_ARGS[@]}" --crate-type staticlib --target "$ios_lib_target"
  step "symbols of the Android library"
  scripts/mobile-symbols.sh check "$android_lib_target" "target/$android_lib_target/$profile_dir/librefreshkit.so"
  step "symbols of the iOS library"
  scripts/mobile-symbols.sh check-apple "$ios_lib_target" "target/$ios_lib_target/$profile_dir/librefreshkit.a"
  step "sizes (stripped)"
  scripts/mobile-symbols.sh sizes "target/$android_lib_target/$profile_dir/librefreshkit.so" \
    "target/$ios_lib_target/$profile_dir/librefreshkit.a" | tee "$work/sizes.md"
}

# --- The Android library's Kotlin, Android flavour, on the JVM --------------------------
run_kotlin() {
  step "Kotlin: Android-flavour bindings with android/refreshkit/src/main/kotlin (Maven, -Werror)"
  # The host build (rustup's toolchain) gives the library's UniFFI metadata; the main
  # looper tests call the auth server.
  cargo build --quiet -p refreshkit -p auth-server
  cargo build --quiet -p uniffi-bindgen
  rm -rf "$work/android-bindings"
  target/debug/uniffi-bindgen generate --no-format --library target/debug/librefreshkit.so -l kotlin \
    -c android/uniffi-android.toml -o "$work/android-bindings" >/dev/null
  bindings/kotlin-messages.sh "$work/android-bindings/dev/refreshkit/refreshkit.kt"
  grep -q AndroidSystemCleaner "$work/android-bindings/dev/refreshkit/refreshkit.kt"
  command -v mvn >/dev/null || { apt-get update -qq && apt-get install -y -qq maven >/dev/null; }
  mvn -B --no-transfer-progress -f tests/mobile/android/pom.xml verify
}

# --- The Swift layer's Apple-only code (the Keychain store) ----------------------------
run_swift() {
  step "Swift: the Keychain code compiled and run against the stub Security module"
  scripts/swift-keychain-checks.sh
}

case "$part" in
  rust) (run_rust) ;;
  kotlin) run_kotlin ;;
  swift) run_swift ;;
  all) run_kotlin; run_swift; (run_rust) ;;
  *) echo "usage: $0 [rust|kotlin|swift]" >&2; exit 2 ;;
esac
printf '\nmake mobile (%s): passed in %d s\n' "$part" $(($(date +%s) - started))
