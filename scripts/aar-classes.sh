#!/usr/bin/env bash
# Takes classes.jar out of an Android library (AAR) on Maven Central, for the builds that
# compile the Android library without Gradle (tests/mobile/android, release/android):
# Maven puts no AAR on a class path, and the poms name the jar this writes, as a system
# dependency. Kept once made.
#   scripts/aar-classes.sh net.openid:appauth:0.11.1   ->  target/aar-classes/appauth-0.11.1.jar
set -euo pipefail
cd "$(dirname "$0")/.."
coords=${1:?usage: scripts/aar-classes.sh GROUP:ARTIFACT:VERSION}
IFS=: read -r _ artifact version <<< "$coords"
out=target/aar-classes/$artifact-$version.jar
[ -s "$out" ] && exit 0
command -v mvn >/dev/null || { apt-get update -qq && apt-get install -y -qq maven >/dev/null; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mvn -q -B --no-transfer-progress org.apache.maven.plugins:maven-dependency-plugin:3.8.1:copy \
  -Dartifact="$coords:aar" -DoutputDirectory="$tmp"
unzip -q -o "$tmp/$artifact-$version.aar" classes.jar -d "$tmp"
mkdir -p "$(dirname "$out")"
mv "$tmp/classes.jar" "$out"
