# shellcheck shell=bash
# The two steps of a SwiftPM release of RefreshKitFFI.xcframework that do not depend on how
# the XCFramework was made, in one place. Sourced (bash 3, BSD and GNU tools, for macOS)
# by ios/release-xcframework.sh (the XCFramework from xcodebuild) and
# scripts/release-xcframework.sh (assembled on Linux); scripts/release-xcframework-check.sh
# checks the result. So the zip and the manifest cannot drift apart between the two.

# The `releasedFramework` line of Package.swift, with nothing after its `=`.
REFRESHKIT_RELEASED_FRAMEWORK_DECL='let releasedFramework: (url: String, checksum: String)? ='

# Package.swift on stdin, with `releasedFramework` set to (URL, CHECKSUM), on stdout.
# Fails unless Package.swift declares it on exactly one line, URL is an https URL of a .zip
# (what SwiftPM accepts for a binary target) without characters that would need escaping in
# a Swift string, and CHECKSUM is a SHA-256 in hex (what `swift package compute-checksum`
# prints).
refreshkit_release_manifest() {
  local url=$1 checksum=$2 manifest lines
  case "$url" in
    https://*.zip) ;;
    *) echo "the URL of the zip must be https://...zip (SwiftPM's rule), not $url" >&2; return 1 ;;
  esac
  case "$url" in
    *[\"\\\ \|\&]*) echo "the URL must not contain quotes, backslashes, spaces, | or &: $url" >&2; return 1 ;;
  esac
  if [ "${#checksum}" != 64 ] || [ -n "$(printf '%s' "$checksum" | tr -d 0-9a-f)" ]; then
    echo "not a SHA-256 in lowercase hex: $checksum" >&2
    return 1
  fi
  manifest=$(cat; echo .)   # (the dot keeps trailing newlines)
  lines=$(printf '%s' "${manifest%.}" | grep -c "^$REFRESHKIT_RELEASED_FRAMEWORK_DECL" || true)
  if [ "$lines" != 1 ]; then
    echo "Package.swift should declare \`$REFRESHKIT_RELEASED_FRAMEWORK_DECL ...\` on one line, found $lines" >&2
    return 1
  fi
  printf '%s' "${manifest%.}" | sed "s|^$REFRESHKIT_RELEASED_FRAMEWORK_DECL .*|$REFRESHKIT_RELEASED_FRAMEWORK_DECL (\"$url\", \"$checksum\")|"
}

# Zips the XCFramework directory DIR into ZIP (removed first) reproducibly: the same files
# give the same bytes, so the same checksum, on any machine. Fixed permissions and
# modification times (in UTC: zip stores local times), entries sorted bytewise, and no
# extra fields (-X: no uid/gid or extended timestamps).
refreshkit_zip_xcframework() {
  local dir=$1 zip=$2 parent name
  parent=$(cd "$(dirname "$dir")" && pwd); name=$(basename "$dir")
  case "$zip" in /*) ;; *) zip=$(pwd)/$zip ;; esac
  rm -f "$zip"
  find "$dir" -type d -exec chmod 755 {} +
  find "$dir" -type f -exec chmod 644 {} +
  find "$dir" -exec env TZ=UTC0 touch -h -t 200001010000.00 {} +
  (cd "$parent" && find "$name" | LC_ALL=C sort | TZ=UTC0 zip -q -X -@ "$zip")
}
