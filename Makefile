# The two commands the README leads with, and their parts.
.PHONY: demo test ci test-rust test-kotlin test-swift mobile release release-check qemu-tests bindings fuzz cargo-fuzz soak bench bench-jvm sim

demo:
	cargo build --quiet -p auth-server
	cargo run --quiet --example demo

test:
	scripts/test-all.sh

# Everything CI runs (.ci/run): every suite, then the release built and checked, then the
# Rust suite on arm64 under qemu. About an hour on a 2-core machine.
ci: test release qemu-tests

test-rust:
	scripts/test-all.sh rust

test-kotlin:
	scripts/test-all.sh kotlin

test-swift:
	scripts/test-all.sh swift

# The core cross-built for every Android ABI, iOS, macOS and Linux arm64 and checked, the
# Android library's Kotlin compiled and run on Robolectric (scripts/mobile.sh; installs
# what it needs).
mobile:
	scripts/mobile.sh

# Every file a release uploads, in target/release-artifacts/, each checked as a consumer
# meets it (scripts/release.sh runs make mobile first); release-check checks them again.
release:
	scripts/release.sh

release-check:
	scripts/release-check.sh

# The Rust suite built for a phone's CPU and run under qemu-user (ARCH=aarch64|armv7).
qemu-tests:
	scripts/qemu-tests.sh $${ARCH:-aarch64}

bindings:
	bindings/generate.sh

# Longer runs, not part of `make test`.
fuzz:
	REFRESHKIT_FUZZ_SECONDS=$${FUZZ_SECONDS:-120} cargo test --release --test fuzz -- --nocapture

# Coverage-guided, on nightly (tests/cargo-fuzz): FUZZ_SECONDS per target, default 300.
cargo-fuzz:
	FUZZ_SECONDS=$${FUZZ_SECONDS:-300} scripts/cargo-fuzz.sh

# The deterministic simulation (tests/sim, scripts/sim.sh). `make sim SEED=<n>` replays
# one seed and prints its trace; `make sim` runs SCHEDULES seeds from FIRST_SEED
# (default 2,000,000 from 300,000, past the range `make test` runs).
sim:
	SIM_SCHEDULES=$${SCHEDULES:-2000000} SIM_FIRST_SEED=$${FIRST_SEED:-300000} scripts/sim.sh $(SEED)

soak:
	cargo build --quiet --release -p auth-server
	REFRESHKIT_AUTH_SERVER=target/release/auth-server SOAK_SECONDS=$${SOAK_SECONDS:-1800} cargo run --release --example soak

bench:
	scripts/bench.sh

# The JVM rows alone (BENCHMARKS.md §3, §3b, §5b) on stdout.
bench-jvm:
	scripts/bench-jvm.sh
