#!/usr/bin/env bash
# Provides what cross-compiling the core for Android and iOS needs on a Debian 12 machine
# without the NDK or Xcode, without touching the host's toolchain: Debian's matched Rust
# compiler and standard library source (rustc-web, cargo-web, rust-web-src, for
# -Zbuild-std) and LLVM's clang, lld and tools, downloaded with apt and unpacked into one
# directory. Idempotent: a directory that is ready is reused, so a second run takes
# a moment. Prints the directory on the last line of stdout.
set -euo pipefail

ROOT=${REFRESHKIT_MOBILE_TOOLCHAIN:-/var/cache/refreshkit-mobile-toolchain}
LLVM=22
PACKAGES="rustc-web cargo-web rust-web-src clang-$LLVM lld-$LLVM llvm-$LLVM"

if [ -x "$ROOT/usr/bin/rustc" ] && [ "$(cat "$ROOT/.refreshkit-ready" 2>/dev/null)" = "$PACKAGES" ]; then
  echo "$ROOT"
  exit 0
fi
if [ "$(id -u)" != 0 ]; then
  echo "mobile-toolchain.sh: needs root (apt-get)" >&2
  exit 1
fi

mkdir -p "$ROOT"
# Worktrees share the directory: one unpacks, the others wait for it.
exec 9>"$ROOT.lock"
flock 9
if [ -x "$ROOT/usr/bin/rustc" ] && [ "$(cat "$ROOT/.refreshkit-ready" 2>/dev/null)" = "$PACKAGES" ]; then
  echo "$ROOT"
  exit 0
fi

# rustc-web and clang-22 come from bookworm-security; a fresh machine may not have its index.
# shellcheck disable=SC2086
if ! apt-get install -s -qq --no-install-recommends $PACKAGES >/dev/null 2>&1; then
  apt-get update -qq >&2
fi
# Download only: apt resolves the dependencies the host lacks (the versioned standard
# library, libLLVM, libgit2 for cargo...) and puts the .debs in our own cache; nothing is
# installed.
debs="$ROOT.debs"
rm -rf "$debs" "$ROOT"
mkdir -p "$debs/partial" "$ROOT"
# shellcheck disable=SC2086
apt-get install -y -qq --download-only --no-install-recommends \
  -o Dir::Cache::archives="$debs" $PACKAGES >&2
for deb in "$debs"/*.deb; do dpkg-deb -x "$deb" "$ROOT"; done
rm -rf "$debs"
echo "$PACKAGES" > "$ROOT/.refreshkit-ready"
echo "$ROOT"
