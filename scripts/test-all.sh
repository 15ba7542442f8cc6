#!/usr/bin/env bash
# Runs every test suite: Rust (unit and integration), the bindings staleness check,
# Kotlin on the JVM (Maven) and Swift (swift test, in a Debian 13 root where this
# machine has no swift). Installs what it needs. `scripts/test-all.sh rust|kotlin|swift`
# runs one part.
set -euo pipefail
cd "$(dirname "$0")/.."
part=${1:-all}

step() { printf '\n==> %s\n' "$*"; }

build_native() {
  step "building the library and the auth server"
  cargo build --quiet -p refreshkit -p auth-server
}

run_rust() {
  step "Rust: unit and integration tests"
  cargo test --quiet -p refreshkit
  step "bindings: committed Kotlin and Swift match the library"
  bindings/generate.sh --check
}

run_kotlin() {
  step "Kotlin: the bindings on the JVM (Maven)"
  scripts/test-kotlin.sh
}

run_swift() {
  step "Swift: the bindings with swift test"
  scripts/test-swift.sh
}

build_native
case "$part" in
  rust) run_rust ;;
  kotlin) run_kotlin ;;
  swift) run_swift ;;
  all) run_rust; run_kotlin; run_swift ;;
  *) echo "usage: $0 [rust|kotlin|swift]" >&2; exit 2 ;;
esac
