#!/usr/bin/env bash
# Checks what `make release` wrote to target/release-artifacts/ as a consumer meets it;
# each check fails, saying why, when its artifact is broken:
#   versions  one version in every file (scripts/check-versions.sh)
#   maven     checksums, POMs, Gradle modules (scripts/maven-check.py)
#   android   the AAR's layout, manifest and classes, and each ABI's .so as shipped
#             (scripts/mobile-symbols.sh check); its POM resolves from the release's
#             repository and Maven Central alone (tests/release/resolve.sh)
#   jvm       the jar's native libraries; a separate Maven project that names only the
#             coordinates runs the README's JVM quick start against the auth server
#   apple     the XCFramework zip and the release Package.swift
#             (scripts/release-xcframework-check.sh)
#   crate     the .crate holds the library and its documents, nothing else
# Usage: scripts/release-check.sh [versions|maven|android|jvm|apple|crate]...  (default: all)
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$(pwd)
# shellcheck source=scripts/mobile-targets.sh
. scripts/mobile-targets.sh
out=target/release-artifacts
work=target/release-work/check
version=$(scripts/check-versions.sh --print)
maven=$out/maven/dev/refreshkit
step() { printf '\n==> release check: %s\n' "$*"; }
fail() { echo "FAILED: $*" >&2; exit 1; }
mkdir -p "$work"

check_versions() {
  step "one version"
  scripts/check-versions.sh
  (cd "$out" && sha256sum --quiet -c SHA256SUMS) || fail "SHA256SUMS does not match the files"
}

check_maven() {
  step "Maven publications"
  scripts/maven-check.py "$out/maven"
}

check_android() {
  step "Android: the AAR"
  local aar=$maven/refreshkit-android/$version/refreshkit-android-$version.aar dir=$work/aar t abi
  rm -rf "$dir" && mkdir -p "$dir" && unzip -q "$aar" -d "$dir"
  for f in AndroidManifest.xml classes.jar R.txt proguard.txt META-INF/com/android/build/gradle/aar-metadata.properties; do
    [ -f "$dir/$f" ] || fail "the AAR has no $f"
  done
  grep -q 'package="dev.refreshkit"' "$dir/AndroidManifest.xml" || fail "the AAR's manifest names no package dev.refreshkit"
  grep -q "android:minSdkVersion=\"$REFRESHKIT_ANDROID_API\"" "$dir/AndroidManifest.xml" ||
    fail "the AAR's manifest does not say minSdk $REFRESHKIT_ANDROID_API"
  cmp -s "$dir/proguard.txt" android/refreshkit/consumer-rules.pro || fail "proguard.txt is not android/refreshkit/consumer-rules.pro"
  # The classes apps call, and the verifier's, which its Rust code reaches through JNI.
  local classes
  classes=$(unzip -Z1 "$dir/classes.jar")
  for c in dev/refreshkit/Session dev/refreshkit/AndroidSystemCleaner dev/refreshkit/ktx/ObservableSession \
    dev/refreshkit/okhttp/RefreshKitInterceptor dev/refreshkit/android/KeystoreTokenStore \
    dev/refreshkit/android/RefreshKitAndroid dev/refreshkit/ktor/RefreshKitPluginKt dev/refreshkit/appauth/AppAuthTokens \
    org/rustls/platformverifier/CertificateVerifier; do
    grep -qx "$c.class" <<< "$classes" || fail "classes.jar has no $c"
  done
  local abis
  abis=$(cd "$dir/jni" && ls)
  [ "$(echo $abis)" = "$(echo "${REFRESHKIT_ANDROID_ABIS[@]}" | tr ' ' '\n' | sort | tr '\n' ' ' | sed 's/ $//')" ] ||
    fail "the AAR's ABIs are $(echo $abis), not ${REFRESHKIT_ANDROID_ABIS[*]}"
  (refreshkit_cross_toolchain
   for t in "${REFRESHKIT_ANDROID_TARGETS[@]}"; do
     abi=$(refreshkit_android_abi "$t")
     echo "jni/$abi/librefreshkit.so:"
     scripts/mobile-symbols.sh check "$t" "$dir/jni/$abi/librefreshkit.so"
   done)
  step "Android: the POM's dependencies resolve from the release's repository and Maven Central alone"
  tests/release/resolve.sh "$repo/$out/maven" "$version"
}

check_jvm() {
  step "JVM: the jar"
  local jar=$maven/refreshkit-jvm/$version/refreshkit-jvm-$version.jar dir=$work/jar t folder machine glibc header
  rm -rf "$dir" && mkdir -p "$dir" && unzip -q "$jar" -d "$dir"
  for t in "${REFRESHKIT_JVM_TARGETS[@]}"; do
    folder=$(refreshkit_jna_folder "$t")
    case "$t" in x86_64-*) machine='X86-64' ;; aarch64-*) machine='AArch64' ;; esac
    [ -f "$dir/$folder/librefreshkit.so" ] || fail "the jar has no $folder/librefreshkit.so"
    # (Kept in a variable: grep -q would end the pipe early, and pipefail is on.)
    header=$(refreshkit_cross_toolchain; llvm-readelf -h "$dir/$folder/librefreshkit.so")
    grep -Eq "Machine: +.*$machine" <<< "$header" || fail "$folder/librefreshkit.so is not a $machine library"
    # The newest glibc it asks for is the oldest Linux it runs on (README: glibc 2.34).
    glibc=$( (refreshkit_cross_toolchain; llvm-readelf -V "$dir/$folder/librefreshkit.so") |
      grep -o 'GLIBC_[0-9.]*' | sort -uV | tail -n 1)
    [ "$(printf '%s\n' "$glibc" GLIBC_2.34 | sort -V | tail -n 1)" = GLIBC_2.34 ] ||
      fail "$folder/librefreshkit.so needs $glibc, newer than the README's glibc 2.34"
    echo "$folder/librefreshkit.so: $machine, needs $glibc"
  done
  [ -f "$dir/dev/refreshkit/ktx/ObservableSession.class" ] || fail "the jar has no ObservableSession"
  step "JVM: a consumer runs the README's quick start from the coordinates alone"
  local consumer=tests/release/jvm-consumer
  mkdir -p "$consumer/target/readme"
  awk '/^## Kotlin on the JVM quick start/ {section = 1} section && /^```kotlin$/ {inside = 1; next}
       inside && /^```$/ {exit} inside' README.md > "$consumer/target/readme/ReadmeJvm.kt"
  # Maven Central and the release only (tests/release/settings.xml), in the consumers'
  # own local repository, without our artifacts: nothing cached stands in for them.
  local m2=$repo/target/release-consumer/m2
  rm -rf "$m2/dev/refreshkit"
  mvn -B -q --no-transfer-progress -f "$consumer/pom.xml" -Dmaven.repo.local="$m2" \
    --settings tests/release/settings.xml --global-settings tests/release/settings.xml \
    -Drelease.repo="file://$repo/$out/maven" -Drefreshkit.version="$version" \
    compile exec:java -Dexec.args="$repo/target/debug/auth-server"
}

check_apple() {
  step "Apple: the XCFramework zip and the release Package.swift"
  scripts/release-xcframework-check.sh "$out"
}

check_crate() {
  step "Rust: the crate"
  local crate=$out/refreshkit-$version.crate files extra
  files=$(tar -tzf "$crate" | sed "s|^refreshkit-$version/||")
  for f in Cargo.toml src/lib.rs README.md LICENSE-MIT LICENSE-APACHE CHANGELOG.md; do
    grep -qx "$f" <<< "$files" || fail "the crate has no $f"
  done
  extra=$(grep -Ev '^(src/.*\.rs|Cargo\.toml|Cargo\.toml\.orig|Cargo\.lock|\.cargo_vcs_info\.json|README\.md|CHANGELOG\.md|LICENSE-(MIT|APACHE)|uniffi\.toml)$' <<< "$files" || true)
  [ -z "$extra" ] || fail "the crate holds files it does not need: $(echo $extra)"
  echo "refreshkit-$version.crate: $(wc -l <<< "$files") files, the library and its documents; built from the package alone by cargo publish --dry-run"
}

# shellcheck source=scripts/mobile-env.sh
. scripts/mobile-env.sh
parts=("$@")
[ ${#parts[@]} -gt 0 ] || parts=(versions maven android jvm apple crate)
for part in "${parts[@]}"; do
  case "$part" in
    versions|maven|android|jvm|apple|crate) "check_$part" ;;
    *) echo "usage: $0 [versions|maven|android|jvm|apple|crate]..." >&2; exit 2 ;;
  esac
done
printf '\nrelease check (%s): passed\n' "${parts[*]}"
