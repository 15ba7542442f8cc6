#!/usr/bin/env bash
# Generates the Android flavour of the Kotlin bindings (android/uniffi-android.toml:
# AndroidSystemCleaner, @RequiresApi) into OUT-DIR, from the host build's UniFFI
# metadata (the bindings do not depend on the ABI). Used by the Gradle build
# (android/build-rust.sh), make mobile and make release, so all three ship the same file.
# Usage: bindings/generate-android.sh OUT-DIR
set -euo pipefail
out=${1:?usage: bindings/generate-android.sh OUT-DIR}
cd "$(dirname "$0")/.."
case "$(uname)" in Darwin) lib=target/debug/librefreshkit.dylib ;; *) lib=target/debug/librefreshkit.so ;; esac
cargo build --quiet -p refreshkit
cargo build --quiet -p uniffi-bindgen
rm -rf "$out"
target/debug/uniffi-bindgen generate --no-format --library "$lib" -l kotlin \
  -c android/uniffi-android.toml -o "$out" >/dev/null
bindings/kotlin-messages.sh "$out/dev/refreshkit/refreshkit.kt"
grep -q AndroidSystemCleaner "$out/dev/refreshkit/refreshkit.kt"
