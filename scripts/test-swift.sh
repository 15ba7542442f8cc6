#!/usr/bin/env bash
# Runs the Swift package's tests (ios/) with `swift test` against the debug host library
# (see scripts/swift.sh for where the toolchain comes from).
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --quiet -p refreshkit -p auth-server
# panva's oidc-provider for OidcProviderDpopTests, on the host: there is no Node.js in the
# Swift root (the network is shared, so the tests reach it on loopback). Without Node.js
# REFRESHKIT_OIDC_ISSUER stays unset and those tests fail unless REFRESHKIT_SKIP_OIDC=1.
if command -v node >/dev/null; then
  [ -d tests/oidc/node_modules ] || (cd tests/oidc && npm ci --no-audit --no-fund --silent)
  oidc_log=$(mktemp)
  # A coprocess: its stdin stays open while this script runs (it exits when stdin closes).
  coproc OIDC { exec node tests/oidc/provider.mjs 2>"$oidc_log"; }
  oidc_pid=$OIDC_PID
  trap 'kill "$oidc_pid" 2>/dev/null || true; rm -f "$oidc_log"' EXIT
  first=
  read -r -t 30 -u "${OIDC[0]}" first || true
  port=${first#listening on 127.0.0.1:}
  if [ "$first" = "$port" ] || ! [[ "$port" =~ ^[0-9]+$ ]]; then
    echo "oidc-provider (tests/oidc/provider.mjs) did not start within 30 s: ${first:-no output}" >&2
    cat "$oidc_log" >&2
    exit 1
  fi
  export REFRESHKIT_OIDC_ISSUER=http://127.0.0.1:$port
fi
# The README's iOS snippets, which the test target compiles (ReadmeQuickStartTests).
scripts/readme-swift.sh > /dev/null
# A build folder per checkout, so two checkouts (worktrees, a CI clone) can test at once.
scratch=/var/tmp/refreshkit-swift-build-$(pwd | cksum | cut -d ' ' -f 1)
scripts/swift.sh test --disable-swift-testing --scratch-path "$scratch" "$@"
scripts/swift-keychain-checks.sh
