// kernels.h — the numeric building blocks every op uses:
//   * gemm(): row-major C = alpha * op(A) op(B) + beta * C through our packed kernels or OpenBLAS;
//   * exp/sigmoid/tanh written as plain arithmetic so the compiler vectorises the loops
//     (glibc's expf is a function call per element and does not);
//   * set_threads(): one knob for OpenBLAS's and our own (OpenMP) threads.
#pragma once
#include <cstdint>

namespace memsig {

// Row-major GEMM. A is [M,K] (or [K,M] if transA), B is [K,N] (or [N,K] if transB), C is [M,N].
// Large products run on our packed kernels (engine/gemm_packed.h), small ones on OpenBLAS;
// MEMSIG_OPENBLAS=1 sends every product (and the recurrences) to OpenBLAS, the reference.
void gemm(bool transA, bool transB, int M, int N, int K, float alpha, const float* A,
          const float* B, float beta, float* C);
bool use_openblas();
// The same product always through OpenBLAS (the reference in tests).
void gemm_openblas(bool transA, bool transB, int M, int N, int K, float alpha, const float* A, const float* B, float beta,
                   float* C);

void set_threads(int n);  // n <= 0: $OMP_NUM_THREADS, else the cores the load average leaves idle (>= 1)
int get_threads();
// Whether the count was fixed by the user (set_threads(n > 0) or $OMP_NUM_THREADS) rather than
// chosen from the load; a ThreadGovernor only adapts a count the user left to us.
bool threads_fixed_by_user();
void set_adapted_threads(int n);  // as set_threads(n) for a ThreadGovernor: the count stays ours to adapt
int runnable_tasks();  // tasks runnable on the machine now (Linux /proc/stat procs_running; -1 unknown)

// exp(x) to ~2 ulp for x in [-87, 88] (Cephes polynomial on x = n ln2 + r, then scale by 2^n);
// NaN gives NaN.
inline float fast_exp(float x) {
  if (x != x) return x;  // NaN (converting it to an integer below would be undefined)
  x = x < -87.0f ? -87.0f : (x > 88.0f ? 88.0f : x);
  int32_t k = (int32_t)(x * 1.44269504088896341f + 128.5f);  // floor(x log2 e + 1/2) + 128; the sum is > 0
  float n = (float)(k - 128);
  float r = x - n * 0.693359375f + n * 2.12194440e-4f;
  float p = 1.9875691500e-4f;
  p = p * r + 1.3981999507e-3f;
  p = p * r + 8.3334519073e-3f;
  p = p * r + 4.1665795894e-2f;
  p = p * r + 1.6666665459e-1f;
  p = p * r + 5.0000001201e-1f;
  float y = p * r * r + r + 1.0f;
  return y * __builtin_bit_cast(float, (k - 1) << 23);  // 2^n = bits of exponent n + 127
}
// sigmoid(x) = 1 / (1 + e^-x)
inline float fast_sigmoid(float x) { return 1.0f / (1.0f + fast_exp(-x)); }
// tanh(x) = sign(x) (1 - e^-2|x|) / (1 + e^-2|x|)
inline float fast_tanh(float x) {
  float e = fast_exp(-2.0f * __builtin_fabsf(x));
  return __builtin_copysignf((1.0f - e) / (1.0f + e), x);
}

// The same functions over arrays, one vector register at a time (GCC/Clang vector extensions:
// 8 lanes of AVX on x86, 4 lanes of NEON on AArch64), the scalar versions above finishing the
// tail. These carry the gate math.
void exp_inplace(float* x, int64_t n);
void sigmoid_inplace(float* x, int64_t n);
void tanh_inplace(float* x, int64_t n);
void tanh_into(const float* x, float* y, int64_t n);  // y = tanh(x)

// y[i] += x[i]
inline void add_into(float* y, const float* x, int64_t n) {
  for (int64_t i = 0; i < n; ++i) y[i] += x[i];
}

}  // namespace memsig
