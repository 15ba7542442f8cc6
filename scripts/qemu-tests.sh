#!/usr/bin/env bash
# `make qemu-tests ARCH=aarch64|armv7`: the Rust integration tests (tests/all) built for
# Linux on arm64 or 32-bit ARM and run under qemu-user, against the host's auth server.
# The phones' instruction sets on an x86_64 machine: ring's arm assembly, the atomics,
# and (armv7) a 32-bit usize. Debian's cross glibc stands in for bionic/Darwin, which
# qemu-user cannot run; the library's code is the same.
# Installs what it needs (as root, apt): qemu-user, Debian's cross gcc and glibc, and the
# mobile toolchain (scripts/mobile-toolchain.sh: Debian's rustc with std's source for
# -Zbuild-std). Ends with one line: `qemu <arch>: N passed, M failed, ...`.
set -euo pipefail
cd "$(dirname "$0")/.."
case "${1:-}" in
  aarch64) triple=aarch64-unknown-linux-gnu qemu=qemu-aarch64 gnu=aarch64-linux-gnu deb=arm64 ;;
  armv7) triple=armv7-unknown-linux-gnueabihf qemu=qemu-arm gnu=arm-linux-gnueabihf deb=armhf ;;
  *) echo "usage: $0 aarch64|armv7" >&2; exit 2 ;;
esac
arch=$1
step() { printf '\n==> %s\n' "$*"; }
packages="qemu-user gcc-$gnu libc6-dev-$deb-cross"
# shellcheck disable=SC2086
if ! dpkg -s $packages >/dev/null 2>&1; then
  step "apt: $packages"
  apt-get install -y -qq --no-install-recommends $packages >/dev/null 2>&1 ||
    { apt-get update -qq && apt-get install -y -qq --no-install-recommends $packages >/dev/null; }
fi
mkdir -p "${CARGO_TARGET_DIR:-target}"
target=$(cd "${CARGO_TARGET_DIR:-target}" && pwd -P)
# The qemu run's own directory: the tests find session-child and themselves through
# their executable's path (tests/all/helpers/child.rs: <exe dir>/../examples/session-child).
run=$target/qemu/$arch
export QEMU_LD_PREFIX=/usr/$gnu
# The auth server runs on the host (qemu-user hands the test's execve of an x86_64
# program to the kernel; they talk over loopback). Built as `make test` builds it, with
# rustup's cargo, before the cross toolchain takes over RUSTC and CARGO.
step "host auth-server"
cargo build --quiet -p auth-server
export REFRESHKIT_AUTH_SERVER=$target/debug/auth-server

step "cross build for $triple (Debian's rustc, -Zbuild-std, $gnu-gcc)"
# shellcheck source=scripts/mobile-targets.sh
. scripts/mobile-targets.sh
# shellcheck source=scripts/mobile-env.sh
. scripts/mobile-env.sh
refreshkit_cross_toolchain
refreshkit_cross_env "$target/qemu/env"
# std as the phones' builds have it (scripts/mobile-targets.sh: without the backtrace
# symbolizer, which under emulation takes over 10 s per panic to read the debug binary,
# so the tests whose store panics on purpose saw the store's 10 s timeout instead). The
# dependencies optimised and without debug info, as shipped; refreshkit itself stays a
# debug build (debug assertions, overflow checks). At -O0 under emulation the burst tests
# are CPU-bound: dpop::a_burst_across_an_expiry... signed about 12 DPoP proofs a second on
# armv7 (P-256 in portable C there; arm64 has assembly) and hit its 30 s bound.
cargo_cross() {
  "$CARGO" "$@" "${REFRESHKIT_BUILD_STD_ARGS[@]}" --target "$triple" \
    --config 'profile.dev.package."*".opt-level=2' --config 'profile.dev.package."*".debug=false'
}
started=$(date +%s)
tests=$(cargo_cross test --quiet -p refreshkit --test all --no-run --message-format=json-render-diagnostics |
  sed -n 's/.*"executable":"\([^"]*\)".*/\1/p' | tail -n 1)
cargo_cross build --quiet -p refreshkit --example session-child
build_seconds=$(($(date +%s) - started))

# There is no binfmt_misc in a container: the kernel cannot execve an arm program. The
# test binary is run from $run/deps/all (a hard link: its path is what the tests see as
# their executable), and the session-child the tests start is a script that runs the arm
# one under qemu.
rm -rf "$run"
mkdir -p "$run/deps" "$run/examples"
ln "$tests" "$run/deps/all"
cat > "$run/examples/session-child" <<SH
#!/bin/sh
exec $qemu "$target/$triple/debug/examples/session-child" "\$@"
SH
chmod +x "$run/examples/session-child"

# This test starts the test binary itself (std::env::current_exe(), which qemu answers
# with the path it was given) as its second process. Run alone from its own path, which
# is replaced by a script like session-child's once qemu has mapped the arm program:
# the running test is unaffected (the file stays open) and its execve gets the script.
reexec=file_store::two_processes_saving_a_thousand_times_each_never_leave_an_unreadable_file

step "tests under $qemu"
log=$run/log
started=$(date +%s)
status=0
"$qemu" "$run/deps/all" --skip "$reexec" 2>&1 | tee "$log" || status=1
ln "$tests" "$run/deps/all-reexec"
"$qemu" "$run/deps/all-reexec" --exact "$reexec" > "$log.reexec" 2>&1 &
pid=$!
until grep -qF "$run/deps/all-reexec" "/proc/$pid/maps" 2>/dev/null || ! kill -0 "$pid" 2>/dev/null; do sleep 0.01; done
printf '#!/bin/sh\nexec %s "%s" "$@"\n' "$qemu" "$tests" > "$run/deps/reexec.sh"
chmod +x "$run/deps/reexec.sh"
mv -f "$run/deps/reexec.sh" "$run/deps/all-reexec"
wait "$pid" || status=1
tee -a "$log" < "$log.reexec"
run_seconds=$(($(date +%s) - started))

# The totals of the two runs (the second filters out everything but its one test).
read -r passed failed ignored < <(sed -n 's/^test result: [a-zA-Z]*\. \([0-9]*\) passed; \([0-9]*\) failed; \([0-9]*\) ignored.*/\1 \2 \3/p' "$log" |
  awk '{ p += $1; f += $2; i += $3 } END { print p + 0, f + 0, i + 0 }')
skipped=$(grep -c '^SKIPPED' "$log" || true)
printf '\nqemu %s: %d passed, %d failed, %d ignored, %d skipped in %d s (build %d s)\n' \
  "$arch" "$passed" "$failed" "$ignored" "$skipped" "$run_seconds" "$build_seconds"
[ "$status" = 0 ] && [ "$failed" = 0 ] && [ "$passed" -gt 0 ]
