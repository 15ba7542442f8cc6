# The targets and flags of the mobile builds, in one place. Sourced (bash 3 is enough,
# for macOS) by android/build-rust.sh and ios/build-xcframework.sh, which developers
# run with the NDK or Xcode, and by scripts/mobile.sh (`make mobile`), which builds the
# same on Linux without them; so the lists and flags cannot drift apart.

# Android: ABIs and their Rust targets, and the lowest API level the library supports
# (android/refreshkit/build.gradle.kts: minSdk).
REFRESHKIT_ANDROID_API=26
REFRESHKIT_ANDROID_ABIS=(arm64-v8a armeabi-v7a x86_64)
REFRESHKIT_ANDROID_TARGETS=(aarch64-linux-android armv7-linux-androideabi x86_64-linux-android)

# Apple: device and simulators (the XCFramework's iOS slices), and the macOS slice; the
# lowest iOS and macOS versions (Package.swift: platforms). rustc and the cc crate read
# the *_DEPLOYMENT_TARGET variables.
REFRESHKIT_IOS_TARGETS=(aarch64-apple-ios aarch64-apple-ios-sim x86_64-apple-ios)
REFRESHKIT_MACOS_TARGETS=(aarch64-apple-darwin x86_64-apple-darwin)
export IPHONEOS_DEPLOYMENT_TARGET=15.0
export MACOSX_DEPLOYMENT_TARGET=12.0

# The JVM jar's native libraries (JNA resource folders linux-x86-64/, linux-aarch64/).
REFRESHKIT_JVM_TARGETS=(x86_64-unknown-linux-gnu aarch64-unknown-linux-gnu)

# How the shipped library is built: the release profile, and one crate type alone (with
# the rlib among the crate types rustc skips the LTO pass and the library grows by a third).
REFRESHKIT_MOBILE_PROFILE=${PROFILE:-release}
# Usage: cargo rustc "${REFRESHKIT_LIB_ARGS[@]}" --crate-type cdylib|staticlib ...
REFRESHKIT_LIB_ARGS=(--profile "$REFRESHKIT_MOBILE_PROFILE" -p refreshkit --lib)
# How Linux builds std for the phones (-Zbuild-std, Debian's toolchain): unwinding, and
# not std's backtrace symbolizer (addr2line, gimli, object, miniz_oxide), which cargo
# adds by default and which has nothing to read in a stripped library; the library never
# captures a backtrace. 127,360 bytes of the arm64 Android library (BENCHMARKS.md 6b),
# which its size budget needs.
REFRESHKIT_BUILD_STD_ARGS=(-Zbuild-std -Zbuild-std-features=panic-unwind)

# The Android ABI of a Rust target, and clang's target name for it at our API level.
refreshkit_android_abi() {
  case "$1" in
    aarch64-linux-android) echo arm64-v8a ;;
    armv7-linux-androideabi) echo armeabi-v7a ;;
    x86_64-linux-android) echo x86_64 ;;
    *) echo "unknown Android target $1" >&2; return 1 ;;
  esac
}
refreshkit_android_clang_target() {
  case "$1" in
    armv7-linux-androideabi) echo "armv7a-linux-androideabi$REFRESHKIT_ANDROID_API" ;;
    *) echo "$1$REFRESHKIT_ANDROID_API" ;;
  esac
}
# JNA's resource folder for a Linux target.
refreshkit_jna_folder() {
  case "$1" in
    x86_64-unknown-linux-gnu) echo linux-x86-64 ;;
    aarch64-unknown-linux-gnu) echo linux-aarch64 ;;
    *) echo "no JNA folder for $1" >&2; return 1 ;;
  esac
}
# cargo's name for a profile's output directory.
refreshkit_profile_dir() {
  case "$REFRESHKIT_MOBILE_PROFILE" in dev) echo debug ;; *) echo "$REFRESHKIT_MOBILE_PROFILE" ;; esac
}
