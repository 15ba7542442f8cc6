#!/usr/bin/env bash
# Runs the Kotlin bindings' JVM suite with Maven. Maven fetches its plugins and the
# dependencies (Kotlin, coroutines, JNA, OkHttp and MockWebServer, JUnit 5, Robolectric
# and its Android 14 jars, R8 for the release-build check) from Maven Central.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --quiet -p refreshkit -p auth-server
command -v mvn >/dev/null || { apt-get update -qq && apt-get install -y -qq maven >/dev/null; }
scripts/readme-kotlin.sh
mvn -B --no-transfer-progress -f tests/kotlin/pom.xml test "$@"
