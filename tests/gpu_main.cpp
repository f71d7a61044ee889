// gpu_main.cpp — the runner of the `gpu` tests (test_gpu.cpp). Where no CUDA device answers, or
// the build has no CUDA, each test exits 77, which ctest reports as skipped, by name; listing the
// tests (catch_discover_tests does at build time) works everywhere.
#define CATCH_CONFIG_RUNNER
#include <catch2/catch.hpp>
#include <cstdio>
#include <cstring>

#include "engine/device.h"

int main(int argc, char** argv) {
  bool listing = false;
  for (int i = 1; i < argc; ++i)
    if (std::strncmp(argv[i], "--list", 6) == 0 || std::strcmp(argv[i], "-l") == 0 || std::strcmp(argv[i], "-h") == 0 ||
        std::strcmp(argv[i], "--help") == 0)
      listing = true;
  if (!listing) {
    memsig::CudaStatus s = memsig::cuda_status();
    if (!s.available) {
      std::printf("SKIP: needs a CUDA GPU: %s\n", s.detail.c_str());
      return 77;
    }
    std::printf("device: %s\n", s.detail.c_str());
  }
  return Catch::Session().run(argc, argv);
}
