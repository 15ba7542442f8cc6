#!/usr/bin/env bash
# Builds RefreshKitFFI.xcframework for the Swift package (macOS with Xcode only):
#   ios-arm64                      device
#   ios-arm64_x86_64-simulator     simulators on Apple silicon and Intel (one lipo'd file)
#   macos-arm64_x86_64             macOS, for `swift test` and Mac apps
# Each slice is the static library with the generated header and a module map named
# module.modulemap, as Xcode expects inside an XCFramework.
# The targets, deployment targets and cargo arguments come from
# ../scripts/mobile-targets.sh, which `make mobile` uses to build and check the iOS
# library on Linux without Xcode.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/.." && pwd)
# shellcheck source=../scripts/mobile-targets.sh
. "$repo/scripts/mobile-targets.sh"
cd "$repo"

targets=("${REFRESHKIT_IOS_TARGETS[@]}" "${REFRESHKIT_MACOS_TARGETS[@]}")
rustup target add "${targets[@]}"
for target in "${targets[@]}"; do
  cargo rustc "${REFRESHKIT_LIB_ARGS[@]}" --crate-type staticlib --target "$target"
done

work="$repo/target/xcframework"
rm -rf "$work" "$here/RefreshKitFFI.xcframework"
mkdir -p "$work/headers" "$work/ios-sim" "$work/macos"
cp bindings/swift/RefreshKitFFI.h "$work/headers/"
cp "$here/Sources/RefreshKitFFI/include/module.modulemap" "$work/headers/module.modulemap"

profile_dir=$(refreshkit_profile_dir)
lib() { echo "${CARGO_TARGET_DIR:-target}/$1/$profile_dir/librefreshkit.a"; }
lipo -create "$(lib aarch64-apple-ios-sim)" "$(lib x86_64-apple-ios)" -output "$work/ios-sim/librefreshkit.a"
lipo -create "$(lib aarch64-apple-darwin)" "$(lib x86_64-apple-darwin)" -output "$work/macos/librefreshkit.a"

xcodebuild -create-xcframework \
  -library "$(lib aarch64-apple-ios)" -headers "$work/headers" \
  -library "$work/ios-sim/librefreshkit.a" -headers "$work/headers" \
  -library "$work/macos/librefreshkit.a" -headers "$work/headers" \
  -output "$here/RefreshKitFFI.xcframework"
echo "built $here/RefreshKitFFI.xcframework"
