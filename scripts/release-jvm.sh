#!/usr/bin/env bash
# The JVM jar of a release: the JVM bindings, ObservableSession and the OkHttp and Ktor layers
# (release/jvm/pom.xml) with the Rust core for Linux x86_64 and arm64 as JNA resources,
# so `Native.load` finds the library inside the jar on either machine.
#   refreshkit-jvm-<version>.jar, refreshkit-jvm-<version>-sources.jar
# Usage: scripts/release-jvm.sh WORK-DIR OUT-DIR   (after scripts/mobile.sh rust)
set -euo pipefail
cd "$(dirname "$0")/.."
work=${1:?usage: scripts/release-jvm.sh WORK-DIR OUT-DIR}
out=${2:?usage: scripts/release-jvm.sh WORK-DIR OUT-DIR}
# shellcheck source=scripts/mobile-targets.sh
. scripts/mobile-targets.sh
# shellcheck source=scripts/release-zip.sh
. scripts/release-zip.sh
version=$(scripts/check-versions.sh --print)
name=refreshkit-jvm-$version
profile_dir=$(refreshkit_profile_dir)
mkdir -p "$out"

# release/jvm/pom.xml takes target/release-work/jna as its resources.
rm -rf "$work/jna"
for t in "${REFRESHKIT_JVM_TARGETS[@]}"; do
  mkdir -p "$work/jna/$(refreshkit_jna_folder "$t")"
  cp "target/$t/$profile_dir/librefreshkit.so" "$work/jna/$(refreshkit_jna_folder "$t")/"
done
mvn -B -q --no-transfer-progress -f release/jvm/pom.xml package
cp "release/jvm/target/$name.jar" "$out/"

rm -rf "$work/jvm-sources" && mkdir -p "$work/jvm-sources"
cp -r bindings/kotlin/. "$work/jvm-sources/"
mkdir -p "$work/jvm-sources/dev/refreshkit"
cp -r android/refreshkit/src/main/kotlin/dev/refreshkit/ktx android/refreshkit/src/main/kotlin/dev/refreshkit/okhttp \
  android/refreshkit/src/main/kotlin/dev/refreshkit/ktor \
  "$work/jvm-sources/dev/refreshkit/"
deterministic_zip "$work/jvm-sources" "$out/$name-sources.jar"
echo "$out/$name.jar"
