#!/usr/bin/env bash
# One version for everything a release names: the crate's (Cargo.toml) is the version.
# The Gradle build, the Maven projects that build the release, the CHANGELOG and the
# README's install lines must say the same; once `make release` has run, so must the
# POMs and Gradle module files (scripts/maven-publication.py takes the crate's version),
# the release Package.swift and the crate file. Fails, naming each file that disagrees.
# `--print` prints the version; `--sources` checks the sources only.
set -euo pipefail
cd "$(dirname "$0")/.."
version=$(sed -n '/^\[package\]/,/^\[/ s/^version = "\(.*\)"/\1/p' Cargo.toml)
[ -n "$version" ] || { echo "no version in Cargo.toml" >&2; exit 1; }
if [ "${1:-}" = --print ]; then echo "$version"; exit 0; fi

wrong=()
# Each check: a file, and a fixed string it must contain.
expect() { grep -qF -- "$2" "$1" 2>/dev/null || wrong+=("$1 (expected: $2)"); }

expect android/refreshkit/build.gradle.kts "version = \"$version\""
for pom in release/*/pom.xml; do
  expect "$pom" "<version>$version</version>"
done
expect CHANGELOG.md "## $version"
expect README.md "dev.refreshkit:refreshkit-android:$version"
expect README.md "dev.refreshkit:refreshkit-jvm:$version"
expect README.md "from: \"$version\""
expect README.md "refreshkit = \"$version\""

# What make release wrote (not with --sources: make test checks the sources alone).
artifacts=target/release-artifacts
if [ "${1:-}" != --sources ] && [ -d "$artifacts" ]; then
  for pom in "$artifacts"/maven/dev/refreshkit/*/*/*.pom; do
    expect "$pom" "<version>$version</version>"
    [[ $pom == */$version/* ]] || wrong+=("$pom (not in a $version folder)")
  done
  for module in "$artifacts"/maven/dev/refreshkit/*/*/*.module; do
    expect "$module" "\"version\": \"$version\""
  done
  expect "$artifacts/Package.swift" "/download/$version/RefreshKitFFI.xcframework.zip"
  [ -f "$artifacts/refreshkit-$version.crate" ] || wrong+=("$artifacts/refreshkit-$version.crate (missing)")
fi

if [ ${#wrong[@]} -gt 0 ]; then
  printf 'version %s is not what these say:\n' "$version" >&2
  printf '  %s\n' "${wrong[@]}" >&2
  exit 1
fi
echo "one version everywhere: $version"
