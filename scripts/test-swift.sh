#!/usr/bin/env bash
# Runs the Swift package's tests (ios/) with `swift test`, linking the host library.
# Uses `swift` from the PATH where there is one (macOS, a Linux toolchain); otherwise a
# Debian 13 root file system with Debian's Swift 6 (scripts/swift-root.sh), entered with
# chroot, with this repository bind-mounted at /src.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$(pwd)
cargo build --quiet -p refreshkit -p auth-server

if command -v swift >/dev/null; then
  cd ios && LD_LIBRARY_PATH="$repo/target/debug" swift test --disable-swift-testing "$@"
  exit
fi

root=$(scripts/swift-root.sh | tail -n 1)
mkdir -p "$root/src"
cleanup() {
  # Auth servers started by the tests exit when the test process does; give them a moment.
  for _ in 1 2 3 4 5; do umount "$root/src" 2>/dev/null && break; sleep 1; done
  umount "$root/proc" 2>/dev/null || true
}
trap cleanup EXIT
mountpoint -q "$root/proc" || mount -t proc proc "$root/proc"
mountpoint -q "$root/src" || mount --bind "$repo" "$root/src"
chroot "$root" /usr/bin/env -i PATH=/usr/bin:/bin HOME=/root LD_LIBRARY_PATH=/src/target/debug \
  /bin/sh -c "cd /src/ios && swift test --disable-swift-testing --scratch-path /var/tmp/refreshkit-swift-build $*"
