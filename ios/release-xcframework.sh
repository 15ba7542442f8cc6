#!/usr/bin/env bash
# Makes a release of the XCFramework for SwiftPM (macOS with Xcode only): zips
# ios/RefreshKitFFI.xcframework (run ios/build-xcframework.sh first), computes its
# checksum, and writes `releasedFramework` in Package.swift, so apps that add the
# package by URL download the zip from URL instead of building the core.
# The zip and the manifest are made as scripts/release-xcframework.sh makes them on Linux
# (scripts/swiftpm-release.sh); scripts/release-xcframework-check.sh checks either.
#
# Usage: ios/release-xcframework.sh URL   (where the zip will be uploaded)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/.." && pwd)
# shellcheck source=../scripts/swiftpm-release.sh
. "$repo/scripts/swiftpm-release.sh"
url=${1:?usage: ios/release-xcframework.sh URL-of-the-zip}
zip="$repo/target/RefreshKitFFI.xcframework.zip"
[ -d "$here/RefreshKitFFI.xcframework" ] || { echo "run ios/build-xcframework.sh first" >&2; exit 1; }
mkdir -p "$repo/target"
refreshkit_zip_xcframework "$here/RefreshKitFFI.xcframework" "$zip"
checksum=$(cd "$repo" && swift package compute-checksum "$zip")
refreshkit_release_manifest "$url" "$checksum" < "$repo/Package.swift" > "$repo/Package.swift.new" ||
  { rm -f "$repo/Package.swift.new"; exit 1; }
mv "$repo/Package.swift.new" "$repo/Package.swift"
echo "$zip"
echo "checksum $checksum; Package.swift now points at $url: upload the zip there, then tag."
