#!/usr/bin/env bash
# Provides a Swift 6 toolchain on a Debian 12 machine that has none: a Debian 13 root
# file system with Debian's `swiftlang`, entered with chroot. Idempotent: a root that
# already has swiftc is reused, so a second run takes seconds.
# Prints the root's path on the last line of stdout.
set -euo pipefail

ROOT=${SWIFT_ROOT:-/var/cache/refreshkit-swift-trixie}
# ca-certificates: the library verifies TLS against the system trust store.
PACKAGES="swiftlang libc6-dev libstdc++-14-dev ca-certificates"

if [ -x "$ROOT/usr/bin/swiftc" ] && [ "$(cat "$ROOT/.refreshkit-ready" 2>/dev/null)" = "$PACKAGES" ]; then
  echo "$ROOT"
  exit 0
fi

if [ "$(id -u)" != 0 ]; then
  echo "swift-root.sh: needs root (debootstrap and chroot)" >&2
  exit 1
fi

if ! command -v debootstrap >/dev/null; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap >/dev/null
fi

if [ ! -x "$ROOT/usr/bin/apt-get" ]; then
  rm -rf "$ROOT"
  debootstrap --variant=minbase trixie "$ROOT" >&2
fi

chroot "$ROOT" apt-get update -qq >&2
# shellcheck disable=SC2086
chroot "$ROOT" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $PACKAGES >&2
echo "$PACKAGES" > "$ROOT/.refreshkit-ready"
echo "$ROOT"
