#!/usr/bin/env bash
# Runs every test suite: Rust (unit and integration), the bindings staleness check,
# Kotlin on the JVM (Maven) and Swift (swift test, in a Debian 13 root where this
# machine has no swift). Installs what it needs. `scripts/test-all.sh rust|kotlin|swift`
# runs one part. Ends with one line totalling the tests of every suite.
set -euo pipefail
cd "$(dirname "$0")/.."
part=${1:-all}
logs=$(mktemp -d)
trap 'rm -rf "$logs"' EXIT

step() { printf '\n==> %s\n' "$*"; }

# Runs a suite, showing its output and keeping a copy for the totals.
suite() {
  local name=$1
  shift
  "$@" 2>&1 | tee "$logs/$name.log"
}

run_rust() {
  step "Rust: the core's layers only look down, no module cycle (scripts/check-layers.py)"
  python3 scripts/check-layers.py
  step "Rust: clippy, warnings as errors (missing docs included)"
  cargo clippy --quiet -p refreshkit -p auth-server --all-targets -- -D warnings
  # tests/all/oidc_provider.rs runs panva's oidc-provider on Node.js (skipped without it).
  if command -v node > /dev/null; then
    step "oidc-provider for the DPoP tests against a real provider (npm ci)"
    (cd tests/oidc && npm ci --no-audit --no-fund --silent)
  fi
  step "Rust: unit and integration tests"
  suite rust cargo test -p refreshkit
  step "Rust: the deterministic simulation, the CI seed range (scripts/sim.sh; builds in target/sim)"
  scripts/sim.sh clippy
  suite sim scripts/sim.sh
  step "bindings: committed Kotlin and Swift match the library"
  bindings/generate.sh --check
  step "versions: one version in every file a release names"
  scripts/check-versions.sh --sources
}

run_kotlin() {
  step "Kotlin: the bindings on the JVM (Maven)"
  suite kotlin scripts/test-kotlin.sh
}

run_swift() {
  step "Swift: the bindings with swift test"
  suite swift scripts/test-swift.sh
}

totals() {
  local passed=0 failed=0 n f e
  for log in "$logs/rust.log" "$logs/sim.log"; do
    [ -f "$log" ] || continue
    while read -r n f; do passed=$((passed + n)); failed=$((failed + f)); done < <(
      sed -n 's/^test result: [a-zA-Z]*\. \([0-9]*\) passed; \([0-9]*\) failed.*/\1 \2/p' "$log")
  done
  if [ -f "$logs/kotlin.log" ]; then
    read -r n f e < <(sed -n 's/.*Tests run: \([0-9]*\), Failures: \([0-9]*\), Errors: \([0-9]*\), Skipped.*/\1 \2 \3/p' "$logs/kotlin.log" | tail -n 1) || true
    passed=$((passed + ${n:-0} - ${f:-0} - ${e:-0})); failed=$((failed + ${f:-0} + ${e:-0}))
  fi
  if [ -f "$logs/swift.log" ]; then
    read -r n f < <(sed -n 's/.*Executed \([0-9]*\) tests\{0,1\}, with \([0-9]*\) failures.*/\1 \2/p' "$logs/swift.log" | tail -n 1) || true
    passed=$((passed + ${n:-0} - ${f:-0})); failed=$((failed + ${f:-0}))
    # The Keychain checks against the stub Security module (scripts/swift-keychain-checks.sh).
    read -r n f < <(sed -n 's/^keychain: \([0-9]*\) passed, \([0-9]*\) failed$/\1 \2/p' "$logs/swift.log" | tail -n 1) || true
    passed=$((passed + ${n:-0})); failed=$((failed + ${f:-0}))
  fi
  printf '\nall suites (%s): %d passed, %d failed\n' "$part" "$passed" "$failed"
}

step "building the library and the auth server"
cargo build --quiet -p refreshkit -p auth-server
cargo build --quiet -p refreshkit --example session-child
case "$part" in
  rust) run_rust ;;
  kotlin) run_kotlin ;;
  swift) run_swift ;;
  all) run_rust; run_kotlin; run_swift ;;
  *) echo "usage: $0 [rust|kotlin|swift]" >&2; exit 2 ;;
esac
totals
