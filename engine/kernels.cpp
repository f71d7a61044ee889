#include "engine/kernels.h"

#include <cblas.h>
#ifdef _OPENMP
#include <omp.h>
#endif
#include <cstdlib>
#include <thread>

// OpenBLAS's own thread control; declared here so we do not depend on its private headers.
extern "C" void openblas_set_num_threads(int);

namespace memsig {

static int g_threads = 0;

void gemm(bool transA, bool transB, int M, int N, int K, float alpha, const float* A,
          const float* B, float beta, float* C) {
  if (M == 0 || N == 0) return;
  if (K == 0) {  // C = beta * C
    for (int64_t i = 0; i < (int64_t)M * N; ++i) C[i] = beta == 0.0f ? 0.0f : beta * C[i];
    return;
  }
  cblas_sgemm(CblasRowMajor, transA ? CblasTrans : CblasNoTrans, transB ? CblasTrans : CblasNoTrans,
              M, N, K, alpha, A, transA ? M : K, B, transB ? K : N, beta, C, N);
}

void set_threads(int n) {
  if (n <= 0) {  // OMP_NUM_THREADS when set, else every core
    const char* env = std::getenv("OMP_NUM_THREADS");
    n = env ? std::atoi(env) : 0;
  }
  if (n <= 0) n = (int)std::thread::hardware_concurrency();
  if (n <= 0) n = 1;
  g_threads = n;
  openblas_set_num_threads(n);
#ifdef _OPENMP
  omp_set_num_threads(n);
#endif
}

int get_threads() {
  if (g_threads == 0) set_threads(0);
  return g_threads;
}

}  // namespace memsig
