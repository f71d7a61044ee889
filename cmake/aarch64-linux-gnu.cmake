# Cross-compiling memsig for 64-bit Arm Linux (AArch64) on a Debian/Ubuntu machine:
#   scripts/install-deps --arm64   (the cross compiler, qemu-user, and the arm64 OpenBLAS, libstdc++, pkgconf and speech libraries)
#   cmake -S . -B build-arm64 -DCMAKE_TOOLCHAIN_FILE=cmake/aarch64-linux-gnu.cmake
#   cmake --build build-arm64 -j2
#   scripts/arm64-check build-arm64      # the test subset under qemu-aarch64
# The libraries come from Debian's arm64 packages (multiarch: /usr/lib/aarch64-linux-gnu); the
# header-only ones (nlohmann-json, CLI11, Catch2) are the same for every architecture, so the
# host's /usr is searched as usual. Test binaries run through qemu-aarch64 (ctest, and the test
# listing at build time).
#
# Which Arm loader qemu-aarch64 runs matters. Debian's arm64 OpenBLAS brings the arm64 libc
# (libc6:arm64: /lib/ld-linux-aarch64.so.1 and /lib/aarch64-linux-gnu/libc.so.6). The usual
# `-L /usr/aarch64-linux-gnu` (QEMU_LD_PREFIX) would take the cross toolchain's loader from there,
# but that loader still reads the machine's ld.so.cache, which names the arm64 libc in
# /lib/aarch64-linux-gnu: a loader and a libc from two different builds of glibc (Debian 12:
# 2.36-8cross1 and 2.36-9+deb12u*, whose loaders' _rtld_global is 4512 and 4520 bytes long).
# Single-threaded programs happen to run; the first pthread_create (and fork) loops forever in
# libc (a list walk inside pthread_create, over the loader's data laid out for the other build).
# So: when the arm64 libc is installed, run its own loader (no -L) with Debian's arm64 runtime
# libraries (libstdc++6:arm64, libgomp1:arm64: scripts/install-deps --arm64 installs them); only
# without it fall back to the cross toolchain's loader and libraries.
#
# The speech libraries (libsndfile, libsamplerate, KissFFT, zlib) are found through pkg-config:
# the host's pkg-config would hand the x86_64 flags (-I/usr/include/x86_64-linux-gnu) to the Arm
# compiler, so the cross build asks Debian's arm64 pkgconf (aarch64-linux-gnu-pkg-config, from
# pkgconf:arm64) for the arm64 packages' flags. espeak-ng is left out of the cross build.
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR aarch64)
set(MEMSIG_CROSS_TRIPLE aarch64-linux-gnu)
set(CMAKE_C_COMPILER ${MEMSIG_CROSS_TRIPLE}-gcc)
set(CMAKE_CXX_COMPILER ${MEMSIG_CROSS_TRIPLE}-g++)
set(CMAKE_LIBRARY_ARCHITECTURE ${MEMSIG_CROSS_TRIPLE})
find_program(MEMSIG_QEMU_AARCH64 qemu-aarch64)
if(MEMSIG_QEMU_AARCH64 AND EXISTS /lib/ld-linux-aarch64.so.1)
  set(CMAKE_CROSSCOMPILING_EMULATOR ${MEMSIG_QEMU_AARCH64})
elseif(MEMSIG_QEMU_AARCH64)
  set(CMAKE_CROSSCOMPILING_EMULATOR ${MEMSIG_QEMU_AARCH64} -L /usr/${MEMSIG_CROSS_TRIPLE})
endif()
find_program(MEMSIG_CROSS_PKG_CONFIG ${MEMSIG_CROSS_TRIPLE}-pkg-config)
if(NOT MEMSIG_CROSS_PKG_CONFIG)
  message(FATAL_ERROR "${MEMSIG_CROSS_TRIPLE}-pkg-config not found: run scripts/install-deps --arm64 "
    "(pkgconf:arm64 and the arm64 speech libraries)")
endif()
set(PKG_CONFIG_EXECUTABLE ${MEMSIG_CROSS_PKG_CONFIG} CACHE FILEPATH "pkg-config for the arm64 packages")
set(MEMSIG_ESPEAK OFF CACHE BOOL "no espeak-ng in the cross build")
