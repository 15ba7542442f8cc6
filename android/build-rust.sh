#!/usr/bin/env bash
# Builds what the Android library packages from the Rust core:
#   refreshkit/src/main/jniLibs/<abi>/librefreshkit.so   per ABI, with cargo-ndk
#   refreshkit/build/generated/uniffi/                    the Android flavour of the Kotlin
# Needs: rustup targets aarch64-linux-android armv7-linux-androideabi x86_64-linux-android,
# cargo-ndk (cargo install cargo-ndk) and ANDROID_NDK_HOME. Called by the Gradle build.
# The ABIs, API level and cargo arguments come from ../scripts/mobile-targets.sh, which
# `make mobile` uses to build and check the same library on Linux without the NDK.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/.." && pwd)
# shellcheck source=../scripts/mobile-targets.sh
. "$repo/scripts/mobile-targets.sh"

cd "$repo"
target_dir=${CARGO_TARGET_DIR:-$repo/target}
profile_dir=$(refreshkit_profile_dir)
# (Plain bash 3 for macOS: no associative arrays.)
for triple in "${REFRESHKIT_ANDROID_TARGETS[@]}"; do
  abi=$(refreshkit_android_abi "$triple")
  cargo ndk -t "$abi" --platform "$REFRESHKIT_ANDROID_API" rustc "${REFRESHKIT_LIB_ARGS[@]}" --crate-type cdylib
  mkdir -p "$here/refreshkit/src/main/jniLibs/$abi"
  cp "$target_dir/$triple/$profile_dir/librefreshkit.so" "$here/refreshkit/src/main/jniLibs/$abi/"
done

# The bindings come from the host build's metadata; they do not depend on the ABI.
bindings/generate-android.sh "$here/refreshkit/build/generated/uniffi"
echo "jniLibs and the Android bindings are ready"
