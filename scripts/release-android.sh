#!/usr/bin/env bash
# The Android library of a release, as AGP would package it, built without Gradle:
#   refreshkit-android-<version>.aar
#     AndroidManifest.xml   namespace dev.refreshkit, minSdk, INTERNET
#     classes.jar           the Android flavour of the bindings, the Android layer
#                           (release/android/pom.xml) and rustls-platform-verifier's
#                           Android classes, which exist only inside a cargo crate
#     jni/<abi>/librefreshkit.so   from make mobile, for every ABI
#     proguard.txt          the consumer R8 rules; R.txt (no resources);
#     META-INF/com/android/build/gradle/aar-metadata.properties
#   refreshkit-android-<version>-sources.jar
# Usage: scripts/release-android.sh WORK-DIR OUT-DIR   (after scripts/mobile.sh rust)
set -euo pipefail
cd "$(dirname "$0")/.."
work=${1:?usage: scripts/release-android.sh WORK-DIR OUT-DIR}
out=${2:?usage: scripts/release-android.sh WORK-DIR OUT-DIR}
# shellcheck source=scripts/mobile-targets.sh
. scripts/mobile-targets.sh
# shellcheck source=scripts/release-zip.sh
. scripts/release-zip.sh
version=$(scripts/check-versions.sh --print)
name=refreshkit-android-$version
stage=$work/aar
rm -rf "$stage" && mkdir -p "$stage/jni" "$out"

# rustls-platform-verifier's Kotlin component (called from its Rust code through JNI),
# as the crate of the version in Cargo.lock ships it.
verifier_aar() {
  cargo metadata --format-version 1 --filter-platform aarch64-linux-android | python3 -c '
import json, pathlib, sys
pkg = next(p for p in json.load(sys.stdin)["packages"] if p["name"] == "rustls-platform-verifier-android")
print(next(pathlib.Path(pkg["manifest_path"]).parent.glob("maven/**/*.aar")))'
}

# classes.jar: ours and the verifier's, one jar.
bindings/generate-android.sh "$work/android-bindings"
scripts/aar-classes.sh net.openid:appauth:0.11.1   # dev.refreshkit.appauth compiles against it
mvn -B -q --no-transfer-progress -f release/android/pom.xml package
rm -rf "$work/classes" && mkdir -p "$work/classes"
unzip -q -o release/android/target/"$name".jar -d "$work/classes"
unzip -q -p "$(verifier_aar)" classes.jar > "$work/verifier-classes.jar"
unzip -q -o "$work/verifier-classes.jar" -d "$work/classes"
printf '%s\n' "refreshkit-android includes the Android classes of rustls-platform-verifier" \
  "(https://github.com/rustls/rustls-platform-verifier, MIT OR Apache-2.0)." > "$work/classes/META-INF/NOTICE"
deterministic_zip "$work/classes" "$stage/classes.jar"

# The manifest: the library's own, with the namespace and minSdk AGP writes into an AAR.
sed -e "s|<manifest xmlns:android=\"http://schemas.android.com/apk/res/android\">|<manifest xmlns:android=\"http://schemas.android.com/apk/res/android\"\n    package=\"dev.refreshkit\">\n    <uses-sdk android:minSdkVersion=\"$REFRESHKIT_ANDROID_API\" />|" \
  android/refreshkit/src/main/AndroidManifest.xml > "$stage/AndroidManifest.xml"
grep -q 'package="dev.refreshkit"' "$stage/AndroidManifest.xml"

profile_dir=$(refreshkit_profile_dir)
for t in "${REFRESHKIT_ANDROID_TARGETS[@]}"; do
  abi=$(refreshkit_android_abi "$t")
  mkdir -p "$stage/jni/$abi"
  cp "target/$t/$profile_dir/librefreshkit.so" "$stage/jni/$abi/"
done
cp android/refreshkit/consumer-rules.pro "$stage/proguard.txt"
: > "$stage/R.txt"
mkdir -p "$stage/META-INF/com/android/build/gradle"
# What AGP checks before it lets an app depend on the AAR (its CheckAarMetadata task).
printf '%s\n' aarFormatVersion=1.0 aarMetadataVersion=1.0 minCompileSdk=1 \
  minAndroidGradlePluginVersion=1.0.0 minCompileSdkExtension=0 \
  > "$stage/META-INF/com/android/build/gradle/aar-metadata.properties"
deterministic_zip "$stage" "$out/$name.aar"

# Sources: what the classes were compiled from (the verifier's are in its crate).
rm -rf "$work/sources" && mkdir -p "$work/sources"
cp -r "$work/android-bindings/." android/refreshkit/src/main/kotlin/. "$work/sources/"
deterministic_zip "$work/sources" "$out/$name-sources.jar"
echo "$out/$name.aar"
