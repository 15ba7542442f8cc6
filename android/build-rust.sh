#!/usr/bin/env bash
# Builds what the Android library packages from the Rust core:
#   refreshkit/src/main/jniLibs/<abi>/librefreshkit.so   per ABI, with cargo-ndk
#   refreshkit/build/generated/uniffi/                    the Android flavour of the Kotlin
# Needs: rustup targets aarch64-linux-android armv7-linux-androideabi x86_64-linux-android,
# cargo-ndk (cargo install cargo-ndk) and ANDROID_NDK_HOME. Called by the Gradle build.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/.." && pwd)
profile=${PROFILE:-release}

cd "$repo"
# The cdylib alone: with the rlib among the crate types rustc skips the LTO pass and the
# library grows by a third. `cargo rustc` builds one crate type, so the copy is ours.
# (Plain bash 3 for macOS: no associative arrays.)
target_dir=${CARGO_TARGET_DIR:-$repo/target}
case "$profile" in dev) profile_dir=debug ;; *) profile_dir=$profile ;; esac
for abi in arm64-v8a armeabi-v7a x86_64; do
  case "$abi" in
    arm64-v8a) triple=aarch64-linux-android ;;
    armeabi-v7a) triple=armv7-linux-androideabi ;;
    x86_64) triple=x86_64-linux-android ;;
  esac
  cargo ndk -t "$abi" --platform 26 rustc --profile "$profile" -p refreshkit --lib --crate-type cdylib
  mkdir -p "$here/refreshkit/src/main/jniLibs/$abi"
  cp "$target_dir/$triple/$profile_dir/librefreshkit.so" "$here/refreshkit/src/main/jniLibs/$abi/"
done

# The bindings come from the host build's metadata; they do not depend on the ABI.
cargo build --quiet -p refreshkit
cargo build --quiet -p uniffi-bindgen
case "$(uname)" in Darwin) lib=target/debug/librefreshkit.dylib ;; *) lib=target/debug/librefreshkit.so ;; esac
out="$here/refreshkit/build/generated/uniffi"
rm -rf "$out"
target/debug/uniffi-bindgen generate --no-format --library "$lib" -l kotlin \
  -c "$here/uniffi-android.toml" -o "$out"
bindings/kotlin-messages.sh "$out/dev/refreshkit/refreshkit.kt"
echo "jniLibs and the Android bindings are ready"
