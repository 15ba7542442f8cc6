#!/usr/bin/env bash
# The JVM rows of BENCHMARKS.md (§3, §3b, §5b) alone, on stdout: the library as it ships
# (release cdylib, LTO) through the Kotlin bindings, side by side with OkHttp and Ktor in
# one run. `scripts/bench-jvm.sh 3` prints §3 only (the c=1 and c=64 rows). scripts/bench.sh
# runs all of it; make bench-jvm runs this alone.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$(pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cargo build --quiet --release -p auth-server
cargo rustc --quiet --release -p refreshkit --lib --crate-type cdylib,staticlib
scripts/readme-kotlin.sh >&2
(cd tests/kotlin && mvn -B -q --no-transfer-progress test-compile dependency:build-classpath \
  -Dmdep.outputFile="$tmp/cp.txt" -Dmdep.includeScope=test -Dmdep.excludeArtifactIds=android-all) >&2
java -Djna.library.path="$repo/target/release" -Drefreshkit.authServer="$repo/target/release/auth-server" \
  -cp "tests/kotlin/target/classes:tests/kotlin/target/test-classes:$(cat "$tmp/cp.txt")" \
  dev.refreshkit.bench.JvmBenchKt "$@"
