# Cross-compiling memsig for 64-bit Arm Linux (AArch64) on a Debian/Ubuntu machine:
#   scripts/install-deps --arm64   (g++-aarch64-linux-gnu qemu-user libopenblas-openmp-dev:arm64 libstdc++6:arm64)
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
