#!/usr/bin/env bash
# Runs `swift ARGS...` in the Swift package (Package.swift at the root, sources in ios/),
# linking the host library. Uses
# `swift` from the PATH where there is one (macOS, a Linux toolchain); otherwise a
# Debian 13 root file system with Debian's Swift 6 (scripts/swift-root.sh), entered with
# chroot, with this repository bind-mounted at its own path inside the root (so two
# checkouts, e.g. git worktrees, never see each other's files). REFRESHKIT_PROFILE
# (debug or release) picks the cargo build to link.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$(pwd)
profile=${REFRESHKIT_PROFILE:-debug}
# What to run in ios/: swift by default; scripts/swift-keychain-checks.sh runs a shell.
tool=${REFRESHKIT_SWIFT_TOOL:-swift}

if command -v swift >/dev/null; then
  REFRESHKIT_PROFILE="$profile" "$tool" "$@"
  exit
fi

root=$(scripts/swift-root.sh | tail -n 1)
mkdir -p "$root$repo"
# Runs of other checkouts may share the root: hold a shared lock while running, and
# unmount /proc only when nobody else holds one.
exec 9>"$root/.refreshkit-lock"
flock -s 9
# A worktree may share another checkout's target directory through a symlink: make that
# directory visible at its own path inside the root too (read-only), unless it already is.
target=$(readlink -f target)
shared_target=
if [ "$target" != "$repo/target" ] && [ -d "$target" ] \
  && [ "$(stat -c %d:%i "$root$target" 2>/dev/null)" != "$(stat -c %d:%i "$target")" ]; then
  shared_target="$root$target"
fi
cleanup() {
  # Auth servers started by the tests exit when the test process does; give them a moment.
  for _ in 1 2 3 4 5; do umount "$root$repo" 2>/dev/null && break; sleep 1; done
  [ -z "$shared_target" ] || umount "$shared_target" 2>/dev/null || true
  flock -x -n 9 && umount "$root/proc" 2>/dev/null || true
}
trap cleanup EXIT
mountpoint -q "$root/proc" || mount -t proc proc "$root/proc"
mountpoint -q "$root$repo" || mount --bind "$repo" "$root$repo"
if [ -n "$shared_target" ]; then
  mkdir -p "$shared_target"
  mount --bind -o ro "$target" "$shared_target"
fi
# No LD_LIBRARY_PATH: the package links the host library with an rpath.
chroot "$root" /usr/bin/env -i PATH=/usr/bin:/bin HOME=/root REFRESHKIT_PROFILE="$profile" \
  ${REFRESHKIT_AUTH_SERVER:+REFRESHKIT_AUTH_SERVER="$REFRESHKIT_AUTH_SERVER"} \
  ${REFRESHKIT_OIDC_ISSUER:+REFRESHKIT_OIDC_ISSUER="$REFRESHKIT_OIDC_ISSUER"} \
  ${REFRESHKIT_SKIP_OIDC:+REFRESHKIT_SKIP_OIDC="$REFRESHKIT_SKIP_OIDC"} \
  /bin/sh -c 'cd "$0" && tool=$1 && shift && exec "$tool" "$@"' "$repo" "$tool" "$@"
