#!/usr/bin/env bash
# Runs the Swift package's tests (ios/) with `swift test` against the debug host library
# (see scripts/swift.sh for where the toolchain comes from).
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --quiet -p refreshkit -p auth-server
scripts/swift.sh test --disable-swift-testing --scratch-path /var/tmp/refreshkit-swift-build "$@"
scripts/swift-typecheck-keychain.sh
