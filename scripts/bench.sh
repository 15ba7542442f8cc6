#!/usr/bin/env bash
# Runs every benchmark against the local auth server on loopback and writes
# BENCHMARKS.md: the Rust core (bursts, overhead against reqwest, memory), the JVM rows
# (bindings against OkHttp, OkHttp Authenticators), the Swift rows (bindings against
# URLSession), axios-auth-refresh on Node.js, and the library's size. Not part of `make test`. Usage: scripts/bench.sh (or make bench).
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$(pwd)
out="$repo/BENCHMARKS.md"
tmp=$(mktemp -d)
server_pid=
cleanup() {
  [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null || true
  rm -rf "$tmp"
}
trap cleanup EXIT

echo "building (release)..." >&2
cargo build --quiet --release -p auth-server
cargo build --quiet --release --example bench --example session-child
# The JVM and Swift rows load the libraries as they ship: built alone, so LTO applies.
cargo rustc --quiet --release -p refreshkit --lib --crate-type cdylib,staticlib
export REFRESHKIT_AUTH_SERVER="$repo/target/release/auth-server"

{
  echo "# Benchmarks"
  echo
  echo "Written by \`make bench\` (scripts/bench.sh) on $(date -u +%Y-%m-%d). Everything runs on one"
  echo "machine against the local auth server on loopback; each comparison is measured side"
  echo "by side in the same run, as a ratio of medians over repeated runs."
  echo
  echo "- Machine: $(nproc) cores ($(sed -n 's/^model name\s*: //p' /proc/cpuinfo | head -n 1)), $(free -g | awk '/Mem:/ {print $2}') GiB, $(uname -sr)"
  echo "- $(rustc --version); refreshkit $(sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -n 1), reqwest $(cargo tree -p refreshkit -e normal --depth 1 | sed -n 's/.*reqwest v\([0-9.]*\).*/\1/p' | head -n 1), uniffi 0.32.2; release profile (opt-level z, LTO)"
  echo "- $(java -version 2>&1 | head -n 1); Node.js $(node --version)"
  echo
} > "$out"

echo "Rust benchmarks..." >&2
# One process per part, so the memory figure starts from a fresh heap.
for part in burst overhead memory processes idle dpop; do
  target/release/examples/bench "$part" >> "$out"
done

echo "axios-auth-refresh on Node.js..." >&2
(cd tests/bench/node && npm ci --no-audit --no-fund --silent)
# The server reads its stdin from a fifo this script holds open (fd 3): it exits when
# the script does, however the script ends.
mkfifo "$tmp/server.in"
"$REFRESHKIT_AUTH_SERVER" --port 0 --access-ttl-ms 60000 --exit-on-stdin-eof > "$tmp/server.out" < "$tmp/server.in" &
server_pid=$!
exec 3> "$tmp/server.in"
for _ in $(seq 100); do [ -s "$tmp/server.out" ] && break; sleep 0.05; done
base="http://$(head -n 1 "$tmp/server.out" | sed 's/listening on //')"
{
  echo "## 5a. axios-auth-refresh on the burst (401 on an expired token, refresh delayed 50 ms)"
  echo
  echo "Configured as its README says: a request interceptor adds the token, \`createAuthRefresh\`"
  echo "refreshes on 401 and stalls requests that come in meanwhile. The default configuration"
  echo "lets only the first 401 refresh and fails the others already on the wire; with"
  echo "\`deduplicateRefresh: false\` (the README's other mode) every 401 joins the refresh in flight or"
  echo "starts one. 5 runs each: refreshes and refresh calls are medians (max over the runs),"
  echo "failures are summed over the 5 runs, time is the median ratio."
  echo
  echo "| client | N | refreshes (goal 1) | refresh calls | failures | time vs valid token |"
  echo "|---|---:|---:|---:|---:|---:|"
  node tests/bench/node/bench.mjs "$base"
  echo
} >> "$out"
kill "$server_pid"; server_pid=
exec 3>&-

echo "JVM benchmarks..." >&2
scripts/bench-jvm.sh >> "$out"
echo >> "$out"

echo "Swift benchmark..." >&2
export REFRESHKIT_PROFILE=release
for product in RefreshKitBench RefreshKitFirstAnswer; do
  scripts/swift.sh build -c release --scratch-path /var/tmp/refreshkit-swift-bench --product "$product" >&2
done
scripts/swift.sh run -c release --skip-build --scratch-path /var/tmp/refreshkit-swift-bench RefreshKitBench >> "$out"

echo "size..." >&2
# The cdylib alone, as android/build-rust.sh makes it: built with the auth server, tokio's
# features would unify and measure more than ships; built with the rlib, rustc skips LTO.
cdylib() { cargo rustc --quiet -p refreshkit --lib --crate-type cdylib "$@"; }
cdylib --release
stripped=$(stat -c %s target/release/librefreshkit.so)
cdylib --release --no-default-features
without_h2=$(stat -c %s target/release/librefreshkit.so)
cdylib --release
cdylib --profile bloat
{
  echo "## 6. Size"
  echo
  echo "x86_64 Linux, the cdylib built alone (\`cargo rustc --crate-type cdylib\`, as"
  echo "android/build-rust.sh builds it), release profile (opt-level z, LTO, 1 codegen unit,"
  echo "stripped, log records below info compiled out)."
  echo
  echo "| artifact | bytes | MiB | goal |"
  echo "|---|---:|---:|---|"
  awk -v b="$stripped" 'BEGIN { printf "| librefreshkit.so, default features (HTTP/2) | %d | %.2f | ≤ 3 MiB |\n", b, b / 1048576 }'
  awk -v b="$without_h2" 'BEGIN { printf "| librefreshkit.so, --no-default-features (HTTP/1.1 only) | %d | %.2f | ≤ 3 MiB |\n", b, b / 1048576 }'
  echo
  echo "Largest contributors (symbol sizes in the same build without stripping, by crate):"
  echo
  echo "| crate | bytes |"
  echo "|---|---:|"
  nm --size-sort --demangle --radix=d target/bloat/librefreshkit.so \
    | awk '{ size=$1; $1=""; $2=""; name=$0; sub(/^ +/, "", name); sub(/^</, "", name); sub(/^_</, "", name);
             split(name, parts, "::"); crate=parts[1]; gsub(/[^A-Za-z0-9_]/, "", crate); if (crate == "") crate="(other)";
             total[crate] += size } END { for (c in total) print total[c], c }' \
    | sort -rn | awk 'NR <= 12' | awk '{ printf "| %s | %d |\n", $2, $1 }'
  echo
} >> "$out"
echo "size on the phones..." >&2
# make mobile's cross-built libraries (scripts/mobile.sh builds them when missing).
[ -s target/mobile/sizes.md ] || scripts/mobile.sh rust >&2
{
  echo "## 6b. Size on the phones"
  echo
  echo "The release libraries \`make mobile\` cross-builds (scripts/mobile.sh; Debian's rustc 1.96"
  echo "with -Zbuild-std, clang/lld 22), measured stripped. The Android library is linked"
  echo "against stand-ins for the NDK's stub libraries; the NDK's own link adds its static"
  echo "libunwind, not measured here. For iOS, a static library's file size says little: the last"
  echo "row sums its objects' sections, an upper bound on what it adds to an app before the"
  echo "app's linker drops what is never called."
  echo
  cat target/mobile/sizes.md
  echo
} >> "$out"
echo "wrote $out" >&2
