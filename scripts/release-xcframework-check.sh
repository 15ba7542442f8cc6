#!/usr/bin/env bash
# Checks a SwiftPM release of the Rust core, OUT-DIR/RefreshKitFFI.xcframework.zip and
# OUT-DIR/Package.swift, as scripts/release-xcframework.sh writes them (or
# ios/release-xcframework.sh: copy its zip and the root Package.swift into one directory),
# without Xcode:
#   zip        it holds RefreshKitFFI.xcframework/ and nothing else (no __MACOSX/, .DS_Store)
#   plist      Info.plist lists exactly the three slices, with their identifiers,
#              architectures, platform and variant; the library and headers each names
#              exist; the headers are this checkout's
#   archs      each slice's library holds the architectures its entry lists (llvm-lipo)
#   objects    each architecture of each slice: every object is Mach-O of that CPU, with
#              one LC_BUILD_VERSION for the slice's platform and the deployment target of
#              scripts/mobile-targets.sh, and the library defines every function the
#              slice's RefreshKitFFI.h declares (scripts/mobile-symbols.sh check-apple-arch)
#   manifest   Package.swift is the root one with `releasedFramework` = (URL, CHECKSUM),
#              and CHECKSUM is the zip's SHA-256 (= swift package compute-checksum)
#   swiftpm    `swift package compute-checksum` of the zip is the checksum in Package.swift;
#              `swift package dump-package` (scripts/swift.sh) accepts Package.swift as it
#              is, which on Linux evaluates the `#if os(Linux)` branch, and with that
#              condition forced false, which evaluates the Apple branch with the real
#              PackageDescription: the FFI target is then the binary target with that URL
#              and checksum (and SwiftPM's own rules for it, https and .zip, hold).
# Every check runs and reports; exits 1 if any failed.
#
# Usage: scripts/release-xcframework-check.sh OUT-DIR
set -euo pipefail
out=${1:?usage: scripts/release-xcframework-check.sh OUT-DIR}
out=$(cd "$out" && pwd)
cd "$(dirname "$0")/.."
repo=$(pwd)
# shellcheck source=scripts/mobile-targets.sh
. scripts/mobile-targets.sh
# shellcheck source=scripts/swiftpm-release.sh
. scripts/swiftpm-release.sh
zip=$out/RefreshKitFFI.xcframework.zip
manifest=$out/Package.swift

if ! command -v llvm-lipo >/dev/null || ! command -v llvm-objdump >/dev/null || ! command -v llvm-nm >/dev/null; then
  root=$(scripts/mobile-toolchain.sh | tail -n 1)
  export PATH="$root/usr/bin:$root/usr/lib/llvm-22/bin:$PATH"
  export LD_LIBRARY_PATH="$root/usr/lib/x86_64-linux-gnu:$root/usr/lib/llvm-22/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
fi

# The slices: identifier, architectures, SupportedPlatform, SupportedPlatformVariant ("-"
# for none), LC_BUILD_VERSION platform (llvm-objdump's name), minimum OS.
slices="ios-arm64 arm64 ios - ios $IPHONEOS_DEPLOYMENT_TARGET
ios-arm64_x86_64-simulator arm64,x86_64 ios simulator iossimulator $IPHONEOS_DEPLOYMENT_TARGET
macos-arm64_x86_64 arm64,x86_64 macos - macos $MACOSX_DEPLOYMENT_TARGET"

tmp=$(mktemp -d)
# The package root dump-package reads, inside the checkout: scripts/swift.sh may run
# swift in a chroot that sees only the checkout.
mkdir -p "$repo/target"
pkg=$(mktemp -d "$repo/target/release-xcframework-check.XXXXXX")
trap 'rm -rf "$tmp" "$pkg"' EXIT
x=$tmp/RefreshKitFFI.xcframework
failed=0

# check NAME FUNCTION: runs FUNCTION in a subshell that stops at its first error; prints
# its output under "ok NAME" or "FAILED NAME".
check() {
  local name=$1 rc
  set +e
  (set -e; "$2") > "$tmp/log" 2>&1
  rc=$?
  set -e
  if [ "$rc" = 0 ]; then
    echo "ok       $name"
    sed -e "s|$tmp/||g" -e 's/^/           /' "$tmp/log"
  else
    echo "FAILED   $name"
    sed -e "s|$tmp/||g" -e 's/^/           /' "$tmp/log"
    failed=$((failed + 1))
  fi
}
die() { echo "$*" >&2; exit 1; }

check_zip() {
  [ -f "$zip" ] || die "$zip does not exist"
  local entries junk
  entries=$(unzip -Z1 "$zip") || die "$zip is not a zip file"
  # (The XCFramework is unpacked for the other checks whatever else the zip holds.)
  unzip -q "$zip" 'RefreshKitFFI.xcframework/*' -d "$tmp" || die "unzip failed"
  junk=$(grep -vE '^RefreshKitFFI\.xcframework/' <<< "$entries" || true)
  junk=$junk${junk:+$'\n'}$(grep -E '(^|/)(__MACOSX|\.DS_Store|\._[^/]*)(/|$)' <<< "$entries" || true)
  junk=$(sed '/^$/d' <<< "$junk" | LC_ALL=C sort -u)
  [ -z "$junk" ] || die "entries besides RefreshKitFFI.xcframework/ or from a Mac's Finder: $(paste -sd ' ' - <<< "$junk" | cut -c1-300)"
  echo "$(wc -l <<< "$entries") entries, all under RefreshKitFFI.xcframework/; $(stat -c %s "$zip") bytes"
}

check_plist() {
  [ -f "$x/Info.plist" ] || die "no RefreshKitFFI.xcframework/Info.plist in the zip"
  python3 - "$x" "$slices" <<'PY'
import os, plistlib, sys
x, table = sys.argv[1], sys.argv[2]
errors = []
try:
    with open(os.path.join(x, "Info.plist"), "rb") as f:
        plist = plistlib.load(f)
except Exception as e:
    sys.exit(f"Info.plist does not parse: {e}")
if plist.get("CFBundlePackageType") != "XFWK":
    errors.append(f"CFBundlePackageType is {plist.get('CFBundlePackageType')!r}, not 'XFWK'")
if plist.get("XCFrameworkFormatVersion") != "1.0":
    errors.append(f"XCFrameworkFormatVersion is {plist.get('XCFrameworkFormatVersion')!r}, not '1.0'")
expected = {}
for line in table.splitlines():
    ident, archs, platform, variant, _, _ = line.split()
    expected[ident] = (archs.split(","), platform, None if variant == "-" else variant)
libraries = plist.get("AvailableLibraries") or []
found = [lib.get("LibraryIdentifier") for lib in libraries]
if sorted(found) != sorted(expected):
    errors.append(f"AvailableLibraries are {found}, not the three {sorted(expected)}")
for lib in libraries:
    ident = lib.get("LibraryIdentifier")
    if ident not in expected:
        continue
    archs, platform, variant = expected[ident]
    if sorted(lib.get("SupportedArchitectures") or []) != archs or len(lib.get("SupportedArchitectures")) != len(archs):
        errors.append(f"{ident}: SupportedArchitectures {lib.get('SupportedArchitectures')}, not {archs}")
    if lib.get("SupportedPlatform") != platform:
        errors.append(f"{ident}: SupportedPlatform {lib.get('SupportedPlatform')!r}, not {platform!r}")
    if lib.get("SupportedPlatformVariant") != variant:
        errors.append(f"{ident}: SupportedPlatformVariant {lib.get('SupportedPlatformVariant')!r}, not {variant!r}")
    path = lib.get("LibraryPath")
    if path != "librefreshkit.a":
        errors.append(f"{ident}: LibraryPath {path!r}, not 'librefreshkit.a'")
    elif not os.path.isfile(os.path.join(x, ident, path)):
        errors.append(f"{ident}: the library {ident}/{path} is missing")
    if lib.get("BinaryPath", path) != path:
        errors.append(f"{ident}: BinaryPath {lib.get('BinaryPath')!r} is not the library {path!r}")
    headers = lib.get("HeadersPath")
    if headers != "Headers":
        errors.append(f"{ident}: HeadersPath {headers!r}, not 'Headers'")
    else:
        for h in ("RefreshKitFFI.h", "module.modulemap"):
            if not os.path.isfile(os.path.join(x, ident, headers, h)):
                errors.append(f"{ident}: {ident}/{headers}/{h} is missing")
if errors:
    sys.exit("\n".join(errors))
for lib in libraries:
    print(f"{lib['LibraryIdentifier']}: {'+'.join(lib['SupportedArchitectures'])} {lib['SupportedPlatform']}"
          + (f" {lib['SupportedPlatformVariant']}" if "SupportedPlatformVariant" in lib else "")
          + f", {lib['LibraryPath']}, {lib['HeadersPath']}/")
PY
  # The headers this checkout generates (bindings/generate.sh) and builds against.
  local id _
  while read -r id _; do
    cmp -s "$x/$id/Headers/RefreshKitFFI.h" bindings/swift/RefreshKitFFI.h ||
      die "$id/Headers/RefreshKitFFI.h is not this checkout's bindings/swift/RefreshKitFFI.h"
    cmp -s "$x/$id/Headers/module.modulemap" ios/Sources/RefreshKitFFI/include/module.modulemap ||
      die "$id/Headers/module.modulemap is not ios/Sources/RefreshKitFFI/include/module.modulemap"
  done <<< "$slices"
  echo "headers: this checkout's RefreshKitFFI.h and module.modulemap in each slice"
}

check_archs() {
  local id archs have bad=0 _
  while read -r id archs _; do
    [ -f "$x/$id/librefreshkit.a" ] || { echo "$id: no librefreshkit.a"; bad=1; continue; }
    have=$({ llvm-lipo -archs "$x/$id/librefreshkit.a" 2>&1 || true; } | tr ' ' '\n' | sed '/^$/d' | LC_ALL=C sort | paste -sd, -)
    if [ "$have" = "$archs" ]; then
      echo "$id: $have"
    else
      echo "$id: llvm-lipo -archs gives ${have:-nothing}, Info.plist lists $archs"; bad=1
    fi
  done <<< "$slices"
  [ "$bad" = 0 ]
}

check_objects() {
  local id archs platform minos arch bad=0 _
  while read -r id archs _ _ platform minos; do
    for arch in ${archs//,/ }; do
      printf '%s ' "$id"
      scripts/mobile-symbols.sh check-apple-arch "$x/$id/librefreshkit.a" "$arch" "$platform" "$minos" \
        "$x/$id/Headers/RefreshKitFFI.h" 2>&1 || bad=1
    done
  done <<< "$slices"
  [ "$bad" = 0 ]
}

# The url and checksum Package.swift gives `releasedFramework`.
released() { sed -n "s|^$REFRESHKIT_RELEASED_FRAMEWORK_DECL (\"\(.*\)\", \"\(.*\)\")\$|\1 \2|p" "$manifest"; }

check_manifest() {
  [ -f "$manifest" ] || die "$manifest does not exist"
  local url checksum sha
  read -r url checksum <<< "$(released)"
  [ -n "$url" ] || die "Package.swift does not set releasedFramework = (\"URL\", \"CHECKSUM\"): $(grep "^let releasedFramework" "$manifest" || echo 'no such line')"
  case "$url" in */RefreshKitFFI.xcframework.zip) ;; *) die "the URL does not name RefreshKitFFI.xcframework.zip: $url" ;; esac
  sha=$(sha256sum "$zip" | cut -d ' ' -f 1)
  [ "$checksum" = "$sha" ] || die "the checksum in Package.swift, $checksum, is not the zip's SHA-256, $sha"
  # Nothing else changed: the root Package.swift, with releasedFramework set the one way.
  refreshkit_release_manifest "$url" "$checksum" < Package.swift > "$tmp/expected.swift" ||
    die "the root Package.swift cannot be turned into a release manifest"
  diff -u "$tmp/expected.swift" "$manifest" > "$tmp/diff" ||
    die "Package.swift differs from the root one with releasedFramework set:$(echo; head -n 20 "$tmp/diff")"
  echo "releasedFramework = $url, checksum $checksum (the zip's SHA-256); otherwise the root Package.swift"
}

# dump-package of PACKAGE.swift, in the scratch package root, as JSON on stdout.
dump() {
  cp "$1" "$pkg/Package.swift"
  scripts/swift.sh package --package-path "$pkg" dump-package 2> "$tmp/dump.err" ||
    die "swift package dump-package refused it:$(echo; cat "$tmp/dump.err")"
}

check_swiftpm() {
  [ -f "$manifest" ] || die "$manifest does not exist"
  local url checksum conditions
  read -r url checksum <<< "$(released)"
  [ -n "$url" ] || die "Package.swift does not set releasedFramework = (\"URL\", \"CHECKSUM\")"
  # SwiftPM's own checksum of the zip (the one it compares with the manifest's on download).
  local computed
  cp "$zip" "$pkg/"
  computed=$(scripts/swift.sh package compute-checksum "$pkg/RefreshKitFFI.xcframework.zip" 2> "$tmp/cc.err") ||
    die "swift package compute-checksum failed:$(echo; cat "$tmp/cc.err")"
  rm -f "$pkg/RefreshKitFFI.xcframework.zip"
  [ "$computed" = "$checksum" ] || die "swift package compute-checksum gives $computed, Package.swift says $checksum"
  echo "swift package compute-checksum of the zip: $computed, as in Package.swift"
  # As Linux sees it (the host library; the releasedFramework line is still compiled).
  dump "$manifest" > "$tmp/linux.json"
  # As Apple platforms see it: the one platform condition, forced false.
  conditions=$(grep -c '^#if os(Linux)$' "$manifest" || true)
  [ "$conditions" = 1 ] || die "Package.swift should have one '#if os(Linux)' line, has $conditions: the Apple branch cannot be forced"
  sed 's/^#if os(Linux)$/#if false \/\/ os(Linux), forced false by release-xcframework-check.sh/' "$manifest" > "$tmp/apple.swift"
  dump "$tmp/apple.swift" > "$tmp/apple.json"
  python3 - "$tmp/linux.json" "$tmp/apple.json" "$url" "$checksum" "$IPHONEOS_DEPLOYMENT_TARGET" "$MACOSX_DEPLOYMENT_TARGET" <<'PY'
import json, sys
linux, apple = (json.load(open(p)) for p in sys.argv[1:3])
url, checksum, ios, macos = sys.argv[3:]
def ffi(dump):
    targets = [t for t in dump["targets"] if t["name"] == "RefreshKitFFI"]
    if len(targets) != 1:
        sys.exit(f"{len(targets)} targets named RefreshKitFFI in the dump")
    return targets[0]
t = ffi(linux)
if t["type"] == "binary":
    sys.exit("on Linux RefreshKitFFI should be the C target of the host library, is a binary target")
t = ffi(apple)
got = (t.get("type"), t.get("url"), t.get("checksum"))
if got != ("binary", url, checksum):
    sys.exit(f"on Apple platforms RefreshKitFFI is (type, url, checksum) {got}, not {('binary', url, checksum)}")
platforms = {p["platformName"]: p["version"] for p in apple["platforms"]}
if platforms != {"ios": ios, "macos": macos}:
    sys.exit(f"platforms {platforms}, not the deployment targets of scripts/mobile-targets.sh (iOS {ios}, macOS {macos})")
others = sorted(t["name"] for t in apple["targets"] if t["name"] != "RefreshKitFFI")
if others != sorted(t["name"] for t in linux["targets"] if t["name"] != "RefreshKitFFI"):
    sys.exit("the Apple and Linux branches declare different targets")
print(f"Linux: RefreshKitFFI is the {ffi(linux)['type']} target at {ffi(linux).get('path')}")
print(f"Apple platforms: RefreshKitFFI is the binary target {url}, checksum {checksum}; iOS {ios}, macOS {macos}")
PY
}

check zip check_zip
[ -d "$x" ] || { echo "nothing to check without the zip's contents"; exit 1; }
check plist check_plist
check archs check_archs
check objects check_objects
check manifest check_manifest
check swiftpm check_swiftpm
if [ "$failed" != 0 ]; then
  echo "$failed of 6 checks FAILED: $out is not a release to publish" >&2
  exit 1
fi
echo "all 6 checks passed: $out"
