#!/usr/bin/env bash
# Runs the Swift package's tests (ios/) with `swift test` against the debug host library
# (see scripts/swift.sh for where the toolchain comes from).
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --quiet -p refreshkit -p auth-server
# A build folder per checkout, so two checkouts (worktrees, a CI clone) can test at once.
scratch=/var/tmp/refreshkit-swift-build-$(pwd | cksum | cut -d ' ' -f 1)
scripts/swift.sh test --disable-swift-testing --scratch-path "$scratch" "$@"
scripts/swift-keychain-checks.sh
