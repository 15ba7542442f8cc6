#!/usr/bin/env bash
# Resolves the release as a developer's build would: Maven must find each publication
# and all that it depends on in the release repository <repo-dir> or on Maven Central,
# and nowhere else (settings.xml), with checksums checked. refreshkit-android through
# tests/release/android-consumer, a project that depends on it alone; refreshkit-jvm
# with dependency:get (its optional okhttp, which Maven leaves to the app, is not
# fetched). The local repository is new on every run (target/release-consumer/m2), so
# nothing cached from another build can stand in for a missing artifact.
#
#   tests/release/resolve.sh <repo-dir> <version>
#   tests/release/resolve.sh target/release-artifacts/maven 0.1.0
set -euo pipefail

if [ $# -ne 2 ]; then
  echo "usage: $0 <repo-dir> <version>" >&2
  exit 2
fi
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
repo=$(cd "$1" && pwd)
version=$2
local_repo="$root/target/release-consumer/m2"
rm -rf "$local_repo"

maven() {
  (cd "$here" && mvn --batch-mode --no-transfer-progress --strict-checksums -Dstyle.color=never \
    --settings "$here/settings.xml" --global-settings "$here/settings.xml" \
    -Dmaven.repo.local="$local_repo" "$@")
}
missing() {
  echo "resolve: $1: a dependency is missing from $repo and Maven Central (above)" >&2
  exit 1
}

echo "resolve: dev.refreshkit:refreshkit-android:$version (tests/release/android-consumer)"
maven --file android-consumer/pom.xml -Drefreshkit.repo="file://$repo" -Drefreshkit.version="$version" \
  dependency:resolve || missing refreshkit-android

echo "resolve: dev.refreshkit:refreshkit-jvm:$version"
# The id is the one settings.xml leaves unmirrored.
maven org.apache.maven.plugins:maven-dependency-plugin:3.8.1:get \
  -Dartifact="dev.refreshkit:refreshkit-jvm:$version" \
  -DremoteRepositories="refreshkit-release::default::file://$repo" || missing refreshkit-jvm

echo "resolve: every dependency of the release found in $repo and on Maven Central"
