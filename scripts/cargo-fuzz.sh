#!/usr/bin/env bash
# Coverage-guided fuzzing (cargo-fuzz, libFuzzer with AddressSanitizer) of every target in
# tests/cargo-fuzz, one after the other, FUZZ_SECONDS each (default 300). Seeds come from
# tests/fuzz/corpus/<target>/ (read only); the corpus libFuzzer grows is kept in
# tests/cargo-fuzz/corpus/<target>/ and crashing inputs in tests/cargo-fuzz/artifacts/<target>/
# (cargo-fuzz sets that prefix).
# Installs cargo-fuzz from crates.io when missing. Needs a nightly toolchain (without one it
# tries stable with RUSTC_BOOTSTRAP=1, untried). Not part of `make test`: CI runs the stable mutation
# fuzzer (tests/fuzz) instead.
#
#   scripts/cargo-fuzz.sh [target...]        FUZZ_SECONDS=60 scripts/cargo-fuzz.sh jwt
#
# Ends with one table row per target: execs, exec/s, cov and ft (libFuzzer's final
# status line), corpus entries, crashes. Exits non-zero when any target crashed.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${FUZZ_SECONDS:-300}
fuzz_dir=tests/cargo-fuzz
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(refresh_oauth refresh_json jwt body_rule config www_authenticate)
# Other builds share the machine: every cargo and fuzzer process runs niced.
nice=(nice -n "${FUZZ_NICE:-15}")

if ! command -v cargo-fuzz >/dev/null 2>&1 && [ ! -x "$HOME/.cargo/bin/cargo-fuzz" ]; then
  echo "==> installing cargo-fuzz from crates.io"
  "${nice[@]}" cargo +stable install --locked cargo-fuzz
fi
export PATH="$HOME/.cargo/bin:$PATH"

if rustup toolchain list 2>/dev/null | grep -q '^nightly'; then
  toolchain=(+nightly)
else
  echo "no nightly toolchain: using stable with RUSTC_BOOTSTRAP=1"
  toolchain=()
  export RUSTC_BOOTSTRAP=1
fi

echo "==> building the fuzz targets"
# All targets at once (or the one asked for), so the runs below only start binaries.
if [ ${#targets[@]} -eq 1 ]; then only=("${targets[0]}"); else only=(); fi
"${nice[@]}" cargo "${toolchain[@]}" fuzz build --fuzz-dir "$fuzz_dir" "${only[@]}"

logs=$fuzz_dir/target/logs
mkdir -p "$logs"
rows=()
crashed=0
for t in "${targets[@]}"; do
  corpus=$fuzz_dir/corpus/$t
  artifacts=$fuzz_dir/artifacts/$t
  mkdir -p "$corpus" "$artifacts"
  before=$(find "$artifacts" -type f | wc -l)
  echo "==> $t for ${seconds}s (log: $logs/$t.log)"
  status=0
  "${nice[@]}" cargo "${toolchain[@]}" fuzz run --fuzz-dir "$fuzz_dir" "$t" "$corpus" "tests/fuzz/corpus/$t" -- \
    -max_total_time="$seconds" -print_final_stats=1 -max_len=8192 -timeout=10 \
    -dict="$fuzz_dir/fuzz.dict" >"$logs/$t.log" 2>&1 || status=$?
  crashes=$(($(find "$artifacts" -type f | wc -l) - before))
  [ "$status" -eq 0 ] || [ "$crashes" -gt 0 ] || crashes="? (exit $status)"
  # The last status line (DONE, or the one before a crash) carries cov, ft and corp.
  last=$(grep -E '^#[0-9]+' "$logs/$t.log" | grep 'cov:' | tail -n 1 || true)
  field() { sed -n "s/.* $1: \\([^ ]*\\).*/\\1/p" <<<"$last"; }
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$logs/$t.log")
  rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$logs/$t.log")
  corp=$(field corp)
  rows+=("$(printf '| %-13s | %11s | %7s | %5s | %6s | %6s | %7s |' "$t" "${execs:-?}" "${rate:-?}" \
    "$(field cov)" "$(field ft)" "${corp%%/*}" "$crashes")")
  if [ "$crashes" != 0 ]; then
    crashed=1
    echo "   crash in $t; input(s) in $artifacts/, panic:"
    grep -m 1 -A 1 "panicked at" "$logs/$t.log" | sed 's/^/   /' || true
  fi
  echo "${rows[-1]}"
done

printf '\ncargo-fuzz, %ss per target (%s)\n' "$seconds" "$(cargo "${toolchain[@]}" fuzz --version 2>/dev/null || echo cargo-fuzz)"
echo '| target        |       execs |  exec/s |   cov |     ft | corpus | crashes |'
echo '|---------------|-------------|---------|-------|--------|--------|---------|'
printf '%s\n' "${rows[@]}"
exit "$crashed"
