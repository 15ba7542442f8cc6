#!/usr/bin/env bash
# The Swift layer's Apple-only code, checked on Linux against stand-ins:
#   - the Keychain code, behind `#if canImport(Security)` (Linux has no Security module):
#     compiled against the in-memory stub in ios/Stubs/Security, which type-checks it (in
#     Swift 6 language mode, as Package.swift builds it), then run;
#   - SessionStateModel's ObservableObject/@Published part (a stub Combine, ios/Stubs/Combine)
#     and ObservableSessionState (@Observable; Debian's libswiftObservation does not link,
#     so Linux builds leave it out): type-checked only;
#   - the AppAuth bridge (ios/Bridges/AppAuth), compiled against a stub AppAuthCore
#     (ios/Stubs/AppAuthCore) and run.
# ios/Tests/KeychainChecks drives KeychainTokenStore, SecureEnclaveDpopKey and the AppAuth
# bridge through their public API, linking the debug host library (and the test support's
# auth server launcher), and exits non-zero naming each failing check. Part of `make test`
# (scripts/test-swift.sh) and `make mobile`.
# The README's iOS snippets (scripts/readme-swift.sh) are compiled into the checks too, so
# the quick start and the DPoP snippet type-check with the real KeychainTokenStore and
# SecureEnclaveDpopKey. On macOS the real modules are there: `swift build` compiles this
# code and the snippets, and the stubs are not used.
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
  mkdir -p $out/apple
  swiftc -parse-as-library -emit-module -module-name Combine -emit-module-path $out/apple/Combine.swiftmodule ios/Stubs/Combine/*.swift
  swiftc -swift-version 6 -typecheck -D REFRESHKIT_TYPECHECK_APPLE -module-name RefreshKit $ffi \
    -I $out -I $out/apple -module-cache-path $out/mc ios/Sources/RefreshKit/*.swift
  echo 'SessionStateModel (ObservableObject) and ObservableSessionState (@Observable) type-check against a stub Combine'
  swiftc -parse-as-library -wmo -emit-library -static -emit-module -module-name AppAuthCore \
    -emit-module-path $out/AppAuthCore.swiftmodule -o $out/libAppAuthCore.a ios/Stubs/AppAuthCore/*.swift
  swiftc -wmo -module-name KeychainChecks $ffi -I $out -module-cache-path $out/mc \
    -L $out -lRefreshKit -lSecurity -lAppAuthCore -L $repo/target/debug -lrefreshkit \
    -Xlinker -rpath -Xlinker $repo/target/debug -o $out/keychain-checks ios/Tests/KeychainChecks/*.swift ios/Bridges/AppAuth/*.swift \
    ios/Sources/RefreshKitTestSupport/AuthServer.swift ios/Sources/RefreshKitTestSupport/AuthServer+Dpop.swift \
    ios/Sources/RefreshKitTestSupport/GatedStore.swift $snippets
  echo \"the README's iOS quick start and DPoP snippet type-check against KeychainTokenStore and SecureEnclaveDpopKey\"
  $out/keychain-checks"
