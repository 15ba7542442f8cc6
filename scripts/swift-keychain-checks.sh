#!/usr/bin/env bash
# Type-checks the Swift layer with the Keychain code switched on (it sits behind
# `#if canImport(Security)`, which Linux lacks), against the stub Security module in
# ios/Stubs. Catches type errors in KeychainTokenStore.swift; it runs nothing.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$(pwd)
out=/var/tmp/refreshkit-security-stub
REFRESHKIT_SWIFT_TOOL=sh scripts/swift.sh -c "set -e; rm -rf $out; mkdir -p $out
  swiftc -parse-as-library -emit-module -module-name Security -emit-module-path $out/Security.swiftmodule ios/Stubs/Security.swift
  swiftc -typecheck -module-name RefreshKit -I $out -module-cache-path $out/mc \
    -Xcc -fmodule-map-file=$repo/ios/Sources/RefreshKitFFI/include/module.modulemap \
    -I $repo/ios/Sources/RefreshKitFFI/include ios/Sources/RefreshKit/*.swift
  echo 'Keychain code type-checks against the stub Security module'"
