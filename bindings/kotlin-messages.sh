#!/usr/bin/env bash
# Makes `SessionException.message` the core's text. UniFFI's Kotlin gives each variant a
# `message` made of its fields (`detail=…`, or "" for `NotSignedIn`); the class's
# `toString()` is the core's `Display`, so `message` returns that: one wording in Rust,
# Kotlin and Swift. Run on every generated Kotlin file (JVM and Android flavours).
set -euo pipefail
for file in "$@"; do
  perl -0pi -e 's{(sealed class SessionException.*?\n\}\n)}{ (my $b = $1) =~ s/(override val message\n\s*get\(\) = )[^\n]*/${1}toString()/g; $b }se' "$file"
done
