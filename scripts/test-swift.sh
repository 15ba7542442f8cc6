#!/usr/bin/env bash
# Runs the Swift package's tests (ios/) with `swift test` against the debug host library
# (on macOS: the XCFramework, built here when it is stale), then the Keychain checks
# (see scripts/swift.sh for where the toolchain comes from).
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --quiet -p refreshkit -p auth-server
# panva's oidc-provider for OidcProviderDpopTests, on the host: there is no Node.js in the
# Swift root (the network is shared, so the tests reach it on loopback). Without Node.js
# REFRESHKIT_OIDC_ISSUER stays unset and those tests fail unless REFRESHKIT_SKIP_OIDC=1.
if command -v node >/dev/null; then
  [ -d tests/oidc/node_modules ] || (cd tests/oidc && npm ci --no-audit --no-fund --silent)
  oidc_dir=$(mktemp -d)
  oidc_log=$oidc_dir/log
  # Its stdin is a pipe this script keeps open while it runs (the provider exits when
  # stdin closes); its first line of output says where it listens. Named pipes rather
  # than a coprocess, so macOS's bash 3.2 runs this too.
  mkfifo "$oidc_dir/in" "$oidc_dir/out"
  node tests/oidc/provider.mjs < "$oidc_dir/in" > "$oidc_dir/out" 2> "$oidc_log" &
  oidc_pid=$!
  trap 'kill "$oidc_pid" 2>/dev/null || true; rm -rf "$oidc_dir"' EXIT
  exec 7> "$oidc_dir/in" 6< "$oidc_dir/out"
  first=
  read -r -t 30 -u 6 first || true
  port=${first#listening on 127.0.0.1:}
  if [ "$first" = "$port" ] || ! [[ "$port" =~ ^[0-9]+$ ]]; then
    echo "oidc-provider (tests/oidc/provider.mjs) did not start within 30 s: ${first:-no output}" >&2
    cat "$oidc_log" >&2
    exit 1
  fi
  export REFRESHKIT_OIDC_ISSUER=http://127.0.0.1:$port
fi
# On macOS the package links ios/RefreshKitFFI.xcframework (Package.swift), not the host
# library: build it (ios/build-xcframework.sh, Xcode and rustup) when it is missing or
# older than the core or its bindings.
if [ "$(uname)" = Darwin ]; then
  plist=ios/RefreshKitFFI.xcframework/Info.plist
  if [ ! -f "$plist" ] || [ -n "$(find src bindings/swift Cargo.toml Cargo.lock -newer "$plist" -type f | head -n 1)" ]; then
    ios/build-xcframework.sh
  fi
fi
# The README's iOS snippets, which the test target compiles (ReadmeQuickStartTests).
scripts/readme-swift.sh > /dev/null
# A build folder per checkout, so two checkouts (worktrees, a CI clone) can test at once.
scratch=/var/tmp/refreshkit-swift-build-$(pwd | cksum | cut -d ' ' -f 1)
scripts/swift.sh test --disable-swift-testing --scratch-path "$scratch" "$@"
scripts/swift-keychain-checks.sh
