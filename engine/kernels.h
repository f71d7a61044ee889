// kernels.h — the numeric building blocks every op uses:
//   * gemm(): row-major C = alpha * op(A) op(B) + beta * C through OpenBLAS cblas_sgemm;
//   * exp/sigmoid/tanh written as plain arithmetic so the compiler vectorises the loops
//     (glibc's expf is a function call per element and does not);
//   * set_threads(): one knob for OpenBLAS's and our own (OpenMP) threads.
#pragma once
#include <cstdint>
#include <cstring>

namespace memsig {

// Row-major GEMM. A is [M,K] (or [K,M] if transA), B is [K,N] (or [N,K] if transB), C is [M,N].
void gemm(bool transA, bool transB, int M, int N, int K, float alpha, const float* A,
          const float* B, float beta, float* C);

void set_threads(int n);  // n <= 0: $OMP_NUM_THREADS, else all cores
int get_threads();

// exp(x) to ~2 ulp for x in [-87, 88] (Cephes polynomial on x = n ln2 + r, then scale by 2^n).
inline float fast_exp(float x) {
  x = x < -87.0f ? -87.0f : (x > 88.0f ? 88.0f : x);
  float n = __builtin_floorf(x * 1.44269504088896341f + 0.5f);
  float r = x - n * 0.693359375f + n * 2.12194440e-4f;
  float p = 1.9875691500e-4f;
  p = p * r + 1.3981999507e-3f;
  p = p * r + 8.3334519073e-3f;
  p = p * r + 4.1665795894e-2f;
  p = p * r + 1.6666665459e-1f;
  p = p * r + 5.0000001201e-1f;
  float y = p * r * r + r + 1.0f;
  int32_t bits = ((int32_t)n + 127) << 23;
  float scale;
  std::memcpy(&scale, &bits, sizeof scale);
  return y * scale;
}
// sigmoid(x) = 1 / (1 + e^-x)
inline float fast_sigmoid(float x) { return 1.0f / (1.0f + fast_exp(-x)); }
// tanh(x) = sign(x) (1 - e^-2|x|) / (1 + e^-2|x|)
inline float fast_tanh(float x) {
  float e = fast_exp(-2.0f * (x < 0 ? -x : x));
  float t = (1.0f - e) / (1.0f + e);
  return x < 0 ? -t : t;
}

// y[i] += x[i]
inline void add_into(float* y, const float* x, int64_t n) {
  for (int64_t i = 0; i < n; ++i) y[i] += x[i];
}

}  // namespace memsig
