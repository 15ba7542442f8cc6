#!/usr/bin/env bash
# The deterministic simulation (tests/sim). Tokio seeds its own random choices only
# when built with `--cfg tokio_unstable`, so the simulation builds apart, in target/sim.
#   scripts/sim.sh                 the CI seed range (SIM_SCHEDULES, SIM_FIRST_SEED)
#   scripts/sim.sh SEED            replays one seed and prints its trace
#   scripts/sim.sh clippy          lints the simulation's build
set -euo pipefail
cd "$(dirname "$0")/.."
export RUSTFLAGS="${RUSTFLAGS:-} --cfg tokio_unstable"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-target}/sim"
args=(--profile sim -p refreshkit --features simulation --test sim)
case "${1:-}" in
  clippy) exec cargo clippy --quiet "${args[@]}" -- -D warnings ;;
  "") exec cargo test "${args[@]}" -- --nocapture ;;
  *) SIM_SEED=$1 exec cargo test "${args[@]}" -- --nocapture a_seed_replays ;;
esac
