#!/usr/bin/env bash
# Makes a release of the XCFramework for SwiftPM (macOS with Xcode only): zips
# ios/RefreshKitFFI.xcframework (run ios/build-xcframework.sh first), computes its
# checksum, and writes `releasedFramework` in Package.swift, so apps that add the
# package by URL download the zip from URL instead of building the core.
#
# Usage: ios/release-xcframework.sh URL   (where the zip will be uploaded)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/.." && pwd)
url=${1:?usage: ios/release-xcframework.sh URL-of-the-zip}
zip="$repo/target/RefreshKitFFI.xcframework.zip"
[ -d "$here/RefreshKitFFI.xcframework" ] || { echo "run ios/build-xcframework.sh first" >&2; exit 1; }
rm -f "$zip"
(cd "$here" && zip -qry "$zip" RefreshKitFFI.xcframework)
checksum=$(cd "$repo" && swift package compute-checksum "$zip")
sed -i.bak "s|^let releasedFramework: (url: String, checksum: String)? = .*|let releasedFramework: (url: String, checksum: String)? = (\"$url\", \"$checksum\")|" "$repo/Package.swift"
rm -f "$repo/Package.swift.bak"
echo "$zip"
echo "checksum $checksum; Package.swift now points at $url: upload the zip there, then tag."
