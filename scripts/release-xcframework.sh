#!/usr/bin/env bash
# The SwiftPM release of the Rust core, made on Linux without Xcode (what
# ios/build-xcframework.sh and ios/release-xcframework.sh make on a Mac):
#   OUT-DIR/RefreshKitFFI.xcframework.zip   the XCFramework, zipped reproducibly
#   OUT-DIR/Package.swift                   the root Package.swift with `releasedFramework`
#                                           = (URL-BASE/RefreshKitFFI.xcframework.zip, the
#                                           zip's SHA-256): commit it for the release's tag
# from the static libraries scripts/mobile.sh builds in target/<triple>/release/. The
# XCFramework is only a directory with an Info.plist, assembled as xcodebuild
# -create-xcframework assembles it, with llvm-lipo for the fat libraries:
#   ios-arm64                    aarch64-apple-ios
#   ios-arm64_x86_64-simulator   aarch64-apple-ios-sim + x86_64-apple-ios
#   macos-arm64_x86_64           aarch64-apple-darwin + x86_64-apple-darwin
# each with the library, librefreshkit.a, and Headers/ (RefreshKitFFI.h, module.modulemap).
# scripts/release-xcframework-check.sh OUT-DIR checks the result.
#
# Usage: scripts/release-xcframework.sh OUT-DIR URL-BASE   (URL-BASE: https://..., where the
#        zip will be uploaded)
set -euo pipefail
usage="usage: scripts/release-xcframework.sh OUT-DIR URL-BASE"
out=${1:?$usage}
url_base=${2:?$usage}
mkdir -p "$out"
out=$(cd "$out" && pwd)
cd "$(dirname "$0")/.."
repo=$(pwd)
# shellcheck source=scripts/mobile-targets.sh
. scripts/mobile-targets.sh
# shellcheck source=scripts/swiftpm-release.sh
. scripts/swiftpm-release.sh
url=${url_base%/}/RefreshKitFFI.xcframework.zip
fail() { echo "release-xcframework.sh: $*" >&2; exit 1; }
# Nothing of an earlier run left to be taken for this one's; the URL checked before the work.
rm -f "$out/RefreshKitFFI.xcframework.zip" "$out/Package.swift"
refreshkit_release_manifest "$url" "$(printf '%064d' 0)" < Package.swift > /dev/null || fail "no release for $url"

# llvm-lipo and llvm-strip: LLVM 22 of the mobile toolchain, unless on the PATH.
if ! command -v llvm-lipo >/dev/null || ! command -v llvm-strip >/dev/null; then
  root=$(scripts/mobile-toolchain.sh | tail -n 1)
  export PATH="$root/usr/bin:$root/usr/lib/llvm-22/bin:$PATH"
  export LD_LIBRARY_PATH="$root/usr/lib/x86_64-linux-gnu:$root/usr/lib/llvm-22/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
fi

profile_dir=$(refreshkit_profile_dir)
lib() { echo "${CARGO_TARGET_DIR:-$repo/target}/$1/$profile_dir/librefreshkit.a"; }
missing=
for t in "${REFRESHKIT_IOS_TARGETS[@]}" "${REFRESHKIT_MACOS_TARGETS[@]}"; do
  [ -f "$(lib "$t")" ] || missing="$missing $t"
done
[ -z "$missing" ] || fail "not built:$missing (scripts/mobile.sh rust builds them: $(lib '<triple>'))"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
x=$work/RefreshKitFFI.xcframework

# slice IDENTIFIER TRIPLE...: the slice's library, one architecture per triple (llvm-lipo
# makes the fat one), with the headers.
# Debug info is stripped, symbols kept, as in Apple's own release builds. The release
# profile builds the Rust code without debug info (Cargo.toml), so the DWARF in the
# archives is only that of ring's C and assembly objects: 0.2-0.3 MB of each
# architecture's 5.3-5.8 MB, of no use to an app's developer (the zip: 9.5 MB with it,
# 9.1 MB without). The symbols stay: they are what an app links against, and what its
# crash reports name.
slice() {
  local id=$1 t thin=()
  shift
  mkdir -p "$x/$id/Headers"
  cp bindings/swift/RefreshKitFFI.h ios/Sources/RefreshKitFFI/include/module.modulemap "$x/$id/Headers/"
  for t in "$@"; do
    llvm-strip --strip-debug -o "$work/$t.a" "$(lib "$t")"
    thin+=("$work/$t.a")
  done
  if [ "${#thin[@]}" = 1 ]; then
    cp "${thin[0]}" "$x/$id/librefreshkit.a"
  else
    llvm-lipo -create "${thin[@]}" -output "$x/$id/librefreshkit.a"
  fi
}
slice ios-arm64 aarch64-apple-ios
slice ios-arm64_x86_64-simulator aarch64-apple-ios-sim x86_64-apple-ios
slice macos-arm64_x86_64 aarch64-apple-darwin x86_64-apple-darwin

# Info.plist as xcodebuild -create-xcframework writes it (Xcode 15 and later): an XML
# plist, keys sorted, tab-indented (plistlib writes the same format), the libraries in the
# order they were given, each with BinaryPath (the library itself for a static library).
python3 - "$x/Info.plist" <<'PY'
import plistlib, sys

def library(identifier, archs, platform, variant=None):
    d = {
        "BinaryPath": "librefreshkit.a",
        "HeadersPath": "Headers",
        "LibraryIdentifier": identifier,
        "LibraryPath": "librefreshkit.a",
        "SupportedArchitectures": archs,
        "SupportedPlatform": platform,
    }
    if variant:
        d["SupportedPlatformVariant"] = variant
    return d

plist = {
    "AvailableLibraries": [
        library("ios-arm64", ["arm64"], "ios"),
        library("ios-arm64_x86_64-simulator", ["arm64", "x86_64"], "ios", "simulator"),
        library("macos-arm64_x86_64", ["arm64", "x86_64"], "macos"),
    ],
    "CFBundlePackageType": "XFWK",
    "XCFrameworkFormatVersion": "1.0",
}
with open(sys.argv[1], "wb") as f:
    plistlib.dump(plist, f, fmt=plistlib.FMT_XML, sort_keys=True)
PY

zip=$out/RefreshKitFFI.xcframework.zip
refreshkit_zip_xcframework "$x" "$zip"
checksum=$(sha256sum "$zip" | cut -d ' ' -f 1)   # = swift package compute-checksum
refreshkit_release_manifest "$url" "$checksum" < Package.swift > "$work/Package.swift"
mv "$work/Package.swift" "$out/Package.swift"

mb() { awk -v b="$(stat -c %s "$1")" 'BEGIN { printf "%.2f MB", b / 1e6 }'; }
for id in ios-arm64 ios-arm64_x86_64-simulator macos-arm64_x86_64; do
  echo "$id: librefreshkit.a $(mb "$x/$id/librefreshkit.a") ($(llvm-lipo -archs "$x/$id/librefreshkit.a" | xargs))"
done
echo "$zip: $(mb "$zip"), SHA-256 $checksum"
echo "$out/Package.swift: releasedFramework = $url"
echo "upload the zip to that URL; commit $out/Package.swift as the root Package.swift of the release's tag"
