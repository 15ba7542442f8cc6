#!/usr/bin/env bash
# `make release`: every file a release uploads, in target/release-artifacts/, each checked
# as a consumer would meet it (scripts/release-check.sh):
#   maven/dev/refreshkit/refreshkit-android/<v>/   the AAR, POM, Gradle module, sources
#   maven/dev/refreshkit/refreshkit-jvm/<v>/       the jar, POM, Gradle module, sources
#   RefreshKitFFI.xcframework.zip, Package.swift   the SwiftPM binary target and the
#                                                  manifest the release's tag carries
#   refreshkit-<v>.crate                           what `cargo publish` uploads
#   SHA256SUMS, UPLOAD.md                          checksums; the steps taken elsewhere
# Builds the libraries first (scripts/mobile.sh: every ABI and slice, with its checks);
# `scripts/release.sh package` packages and checks what make mobile last built.
# REFRESHKIT_RELEASE_URL overrides where the GitHub release's files will be downloaded from.
set -euo pipefail
cd "$(dirname "$0")/.."
step() { printf '\n==> %s\n' "$*"; }
started=$(date +%s)
version=$(scripts/check-versions.sh --print)
out=target/release-artifacts
work=target/release-work
url_base=${REFRESHKIT_RELEASE_URL:-https://github.com/refreshkit/refreshkit/releases/download/$version}

[ "${1:-}" = package ] || scripts/mobile.sh
rm -rf "$out" "$work"
mkdir -p "$out/maven" "$work"
# Maven and the zip tools (a fresh machine may lack them), and the host library the
# bindings are generated from.
if ! command -v mvn >/dev/null || ! command -v zip >/dev/null || ! command -v unzip >/dev/null; then
  apt-get update -qq && apt-get install -y -qq maven zip unzip >/dev/null
fi
cargo build --quiet -p refreshkit -p auth-server

# Maven Central wants a -javadoc.jar beside every jar or AAR; the API documentation is
# the KDoc in the sources jar, which IDEs show. A jar that says so is what Central's rules
# accept when there is no generated javadoc.
mkdir -p "$work/javadoc/META-INF"
printf '%s\n' "refreshkit's API documentation is the KDoc in the -sources.jar beside this jar," \
  "and https://github.com/refreshkit/refreshkit#readme." > "$work/javadoc/README.txt"
# shellcheck source=scripts/release-zip.sh
. scripts/release-zip.sh
deterministic_zip "$work/javadoc" "$work/javadoc.jar"

publish() {
  local name=$1 artifact=$2
  scripts/maven-publication.py "$out/maven" "$name" "$work/$name/$artifact" \
    "$work/$name/$name-$version-sources.jar" --javadoc "$work/javadoc.jar"
}

step "Android: the AAR"
scripts/release-android.sh "$work" "$work/refreshkit-android"
publish refreshkit-android "refreshkit-android-$version.aar"

step "JVM: the jar"
scripts/release-jvm.sh "$work" "$work/refreshkit-jvm"
publish refreshkit-jvm "refreshkit-jvm-$version.jar"

step "Apple: the XCFramework zip and the release Package.swift"
scripts/release-xcframework.sh "$out" "$url_base"

step "Rust: the crate (cargo publish --dry-run: packaged, then built from the package alone)"
cargo publish --dry-run --quiet --allow-dirty -p refreshkit
# The same package, where cargo package writes it (the dry run leaves it in a scratch folder).
cargo package --no-verify --quiet --allow-dirty -p refreshkit
cp "target/package/refreshkit-$version.crate" "$out/"

(cd "$out" && find . -type f ! -name SHA256SUMS ! -name UPLOAD.md | LC_ALL=C sort | sed 's|^\./||' |
  xargs sha256sum > SHA256SUMS)
sed -e "s|@VERSION@|$version|g" -e "s|@URL_BASE@|$url_base|g" release/UPLOAD.md.in > "$out/UPLOAD.md"

scripts/release-check.sh
printf '\nmake release: %s written to %s and checked in %d s\n' "$version" "$out" $(($(date +%s) - started))
