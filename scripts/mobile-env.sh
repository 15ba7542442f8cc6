# The environment of the cross builds, in one place. Sourced (from the repository's root)
# by scripts/mobile.sh and scripts/qemu-tests.sh.

# Debian's rustc-web with its std source (for -Zbuild-std) and LLVM 22, unpacked by
# scripts/mobile-toolchain.sh (installed on first use, as root). Sets RUSTC and CARGO to
# Debian's: build the host's own binaries (auth-server...) with rustup's cargo first.
refreshkit_cross_toolchain() {
  local root
  root=$(scripts/mobile-toolchain.sh | tail -n 1)
  export PATH="$root/usr/bin:$root/usr/lib/llvm-22/bin:$PATH"
  export LD_LIBRARY_PATH="$root/usr/lib/x86_64-linux-gnu:$root/usr/lib/llvm-22/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
  export RUSTC=$root/usr/bin/rustc CARGO=$root/usr/bin/cargo RUSTDOC=$root/usr/bin/rustdoc
  # -Zbuild-std is unstable: the std of every target is built from Debian's source.
  export RUSTC_BOOTSTRAP=1
  # rustup's proxies must not pick another compiler for this tree.
  unset RUSTUP_TOOLCHAIN
}

# Per-target settings for ring's C code and the links. Usage: refreshkit_cross_env WORK
# (a scratch directory: linker wrappers, an empty SDK; Android links against the stub
# libraries and libunwind.a that scripts/mobile-symbols.sh stubs leaves in WORK/stubs/<triple>).
refreshkit_cross_env() {
  local work=$1 repo t u clang_target
  repo=$(pwd)
  mkdir -p "$work/bin" "$work/empty-sdk"
  for t in "${REFRESHKIT_ANDROID_TARGETS[@]}"; do
    u=${t//-/_}
    clang_target=$(refreshkit_android_clang_target "$t")
    export "CC_$u=clang" "AR_$u=llvm-ar"
    # ring's own mode for building without libc headers; no NDK sysroot here.
    export "CFLAGS_$u=--target=$clang_target -ffreestanding -nostdlibinc -DRING_CORE_NOSTDLIBINC=1"
    # The linker: clang driving lld (named *-clang: rustc picks the linker flavour by
    # name), against the stub libraries of scripts/mobile-symbols.sh (the NDK's are
    # generated from bionic's symbol lists in the same way).
    cat > "$work/bin/$t-clang" <<LD
#!/bin/sh
exec clang --target=$clang_target -fuse-ld=lld -nostartfiles -L"$work/stubs/$t" "\$@"
LD
    chmod +x "$work/bin/$t-clang"
    export "CARGO_TARGET_$(echo "$u" | tr a-z A-Z)_LINKER=$work/bin/$t-clang"
  done
  # iOS and macOS: ring's C code only (rustc links nothing for a staticlib), with the
  # stand-in TargetConditionals.h.
  for t in "${REFRESHKIT_IOS_TARGETS[@]}" "${REFRESHKIT_MACOS_TARGETS[@]}"; do
    u=${t//-/_}
    export "CC_$u=clang" "AR_$u=llvm-ar"
    export "CFLAGS_$u=-ffreestanding -nostdlibinc -DRING_CORE_NOSTDLIBINC=1 -isystem $repo/tests/mobile/include"
  done
  # The cc crate asks xcrun for the SDK unless SDKROOT names one; ring needs none of it.
  export SDKROOT=$work/empty-sdk
  # Linux on arm (the JVM jar's linux-aarch64 library, the tests under qemu): Debian's
  # cross gcc and glibc (gcc-aarch64-linux-gnu, gcc-arm-linux-gnueabihf and their
  # libc6-dev-*-cross) compile ring's C code and link.
  local gnu
  for t in aarch64-unknown-linux-gnu:aarch64-linux-gnu armv7-unknown-linux-gnueabihf:arm-linux-gnueabihf; do
    gnu=${t#*:} t=${t%%:*}
    u=${t//-/_}
    export "CC_$u=$gnu-gcc" "AR_$u=$gnu-ar"
    export "CARGO_TARGET_$(echo "$u" | tr a-z A-Z)_LINKER=$gnu-gcc"
  done
}
