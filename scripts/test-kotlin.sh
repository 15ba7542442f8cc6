#!/usr/bin/env bash
# Runs the Kotlin bindings' JVM suite with Maven. Maven fetches its plugins and the
# dependencies (Kotlin, coroutines, JNA, OkHttp and MockWebServer, JUnit 5, Robolectric
# and its Android 14 jars, R8 for the release-build check) from Maven Central.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --quiet -p refreshkit -p auth-server
if ! command -v mvn >/dev/null; then
  # Debian's Maven where there is apt (CI); elsewhere (macOS) the contributor installs it.
  command -v apt-get >/dev/null ||
    { echo "test-kotlin.sh: needs Maven (mvn) and a JDK 17 or newer (macOS: brew install maven)" >&2; exit 1; }
  apt-get update -qq && apt-get install -y -qq maven >/dev/null
fi
scripts/readme-kotlin.sh
mvn -B --no-transfer-progress -f tests/kotlin/pom.xml test "$@"
