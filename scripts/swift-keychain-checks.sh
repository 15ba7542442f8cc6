#!/usr/bin/env bash
# The Swift layer's Keychain code, which sits behind `#if canImport(Security)` (Linux has
# no Security module): compiled against the in-memory stub in ios/Stubs/Security, which
# type-checks it (in Swift 6 language mode, as Package.swift builds it), then run. ios/Tests/KeychainChecks drives KeychainTokenStore and
# SecureEnclaveDpopKey through their public API, linking the debug host library (and the
# test support's auth server launcher), and exits non-zero naming each failing check. Part of `make test` (scripts/test-swift.sh) and `make mobile`.
# The README's iOS snippets (scripts/readme-swift.sh) are compiled into the checks, so the
# quick start and the DPoP snippet type-check with the real KeychainTokenStore and
# SecureEnclaveDpopKey. On macOS the real Security module is there: `swift build` compiles
# this code and the snippets, and the stub (which would stand in its place) is not used.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$(pwd)
if [ "$(uname)" = Darwin ]; then
  echo "keychain checks: skipped on macOS (the stub Security module stands in for Apple's on Linux only)"
  exit 0
fi
snippets=$(scripts/readme-swift.sh)
# A build folder per checkout (inside the Swift root), so two checkouts can run at once.
out=/var/tmp/refreshkit-keychain-checks-$(pwd | cksum | cut -d ' ' -f 1)
ffi="-Xcc -fmodule-map-file=$repo/ios/Sources/RefreshKitFFI/include/module.modulemap -I $repo/ios/Sources/RefreshKitFFI/include"
REFRESHKIT_SWIFT_TOOL=sh scripts/swift.sh -c "set -e; rm -rf $out; mkdir -p $out
  swiftc -parse-as-library -wmo -emit-library -static -emit-module -module-name Security \
    -emit-module-path $out/Security.swiftmodule -o $out/libSecurity.a ios/Stubs/Security/*.swift
  swiftc -swift-version 6 -parse-as-library -wmo -emit-library -static -emit-module -module-name RefreshKit $ffi \
    -I $out -module-cache-path $out/mc -emit-module-path $out/RefreshKit.swiftmodule \
    -o $out/libRefreshKit.a ios/Sources/RefreshKit/*.swift
  echo 'Keychain code type-checks against the stub Security module'
  swiftc -wmo -module-name KeychainChecks $ffi -I $out -module-cache-path $out/mc \
    -L $out -lRefreshKit -lSecurity -L $repo/target/debug -lrefreshkit \
    -Xlinker -rpath -Xlinker $repo/target/debug -o $out/keychain-checks ios/Tests/KeychainChecks/*.swift \
    ios/Sources/RefreshKitTestSupport/AuthServer.swift ios/Sources/RefreshKitTestSupport/AuthServer+Dpop.swift \
    ios/Sources/RefreshKitTestSupport/GatedStore.swift $snippets
  echo \"the README's iOS quick start and DPoP snippet type-check against KeychainTokenStore and SecureEnclaveDpopKey\"
  $out/keychain-checks"
