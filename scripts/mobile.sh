#!/usr/bin/env bash
# `make mobile`: builds the Rust core for the phones it ships to, on a Linux machine with
# neither the NDK nor Xcode, and checks what it built:
#   - the release libraries a release ships (scripts/release.sh packages them), left in
#     target/<triple>/release/: the cdylib of every Android ABI (lld, LLVM's unwinder
#     linked in), the staticlib of the iOS device, both simulators and both Macs, and the
#     cdylib of Linux x86_64 and arm64 for the JVM jar;
#   - the symbol checks of scripts/mobile-symbols.sh on each, and a size table;
#   - the Android flavour of the Kotlin bindings compiled with the Android library's
#     Kotlin (tests/mobile/android, Maven), KeystoreTokenStore and KeystoreDpopKey (also
#     against the auth server with --dpop) run on Robolectric, and
#     ObservableSession with the OkHttp interceptor driven from Robolectric's main looper
#     against the auth server;
#   - the Swift Keychain code compiled against the in-memory stub Security module and its
#     logic run (scripts/swift-keychain-checks.sh, also part of make test).
# Installs what it needs (scripts/mobile-toolchain.sh, Maven, Debian's arm64 cross gcc).
# The targets and flags come from scripts/mobile-targets.sh, shared with
# android/build-rust.sh and ios/build-xcframework.sh; the cross environment from
# scripts/mobile-env.sh. `scripts/mobile.sh rust|kotlin|swift` runs one part.
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
# shellcheck source=scripts/mobile-env.sh
. scripts/mobile-env.sh
profile_dir=$(refreshkit_profile_dir)

# --- The shipped libraries: every Android ABI, iOS device and simulators, macOS, and the
#     JVM's Linux libraries; each checked as it is built -----------------------------------
cargo_mobile() { "$CARGO" "$@" "${REFRESHKIT_BUILD_STD_ARGS[@]}"; }
lib_of() { echo "target/$1/$profile_dir/$2"; }

build_android() {
  local t=$1
  step "release cdylib for $t (lld, with LLVM's unwinder, against bionic's stubs)"
  scripts/mobile-symbols.sh stubs "$t" "$work/stubs/$t"
  # cargo does not see the stub libraries: relink every time, so the link is against these.
  rm -f "$(lib_of "$t" librefreshkit.so)" "target/$t/$profile_dir/deps/librefreshkit.so"
  cargo_mobile rustc --quiet "${REFRESHKIT_LIB_ARGS[@]}" --crate-type cdylib --target "$t"
  scripts/mobile-symbols.sh check "$t" "$(lib_of "$t" librefreshkit.so)"
}

build_apple() {
  local t=$1
  step "release staticlib for $t"
  cargo_mobile rustc --quiet "${REFRESHKIT_LIB_ARGS[@]}" --crate-type staticlib --target "$t"
  scripts/mobile-symbols.sh check-apple "$t" "$(lib_of "$t" librefreshkit.a)"
}

build_jvm() {
  local t=$1
  step "release cdylib for $t (the JVM jar)"
  cargo_mobile rustc --quiet "${REFRESHKIT_LIB_ARGS[@]}" --crate-type cdylib --target "$t"
}

# Debian's cross gcc and glibc for Linux on arm, when missing.
linux_cross_packages() {
  command -v aarch64-linux-gnu-gcc >/dev/null && return
  apt-get install -y -qq --no-install-recommends gcc-aarch64-linux-gnu libc6-dev-arm64-cross >/dev/null 2>&1 ||
    { apt-get update -qq && apt-get install -y -qq --no-install-recommends gcc-aarch64-linux-gnu libc6-dev-arm64-cross >/dev/null; }
}

run_rust() {
  step "toolchain: Debian's rustc-web with rust-web-src, clang/lld/llvm 22 (apt, unpacked)"
  refreshkit_cross_toolchain
  "$RUSTC" -V
  clang --version | head -n 1
  linux_cross_packages
  refreshkit_cross_env "$work"
  local t
  for t in "${REFRESHKIT_ANDROID_TARGETS[@]}"; do build_android "$t"; done
  for t in "${REFRESHKIT_IOS_TARGETS[@]}" "${REFRESHKIT_MACOS_TARGETS[@]}"; do build_apple "$t"; done
  for t in "${REFRESHKIT_JVM_TARGETS[@]}"; do build_jvm "$t"; done
  step "sizes (stripped)"
  scripts/mobile-symbols.sh sizes | tee "$work/sizes.md"
}

# --- The Android library's Kotlin, Android flavour, on the JVM --------------------------
run_kotlin() {
  step "Kotlin: Android-flavour bindings with android/refreshkit/src/main/kotlin (Maven, -Werror)"
  # The host build (rustup's toolchain) gives the library's UniFFI metadata; the main
  # looper tests call the auth server.
  cargo build --quiet -p refreshkit -p auth-server
  bindings/generate-android.sh "$work/android-bindings"
  command -v mvn >/dev/null || { apt-get update -qq && apt-get install -y -qq maven >/dev/null; }
  scripts/aar-classes.sh net.openid:appauth:0.11.1   # dev.refreshkit.appauth compiles against it
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
