#include "engine/kernels.h"

#ifdef MEMSIG_ACCELERATE
#include <Accelerate/Accelerate.h>  // macOS: Apple's CBLAS (cmake -DMEMSIG_ACCELERATE=ON)
#else
#include <cblas.h>
#endif
#ifdef _OPENMP
#include <omp.h>
#endif
#include <cstdio>
#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "engine/gemm_packed.h"

#ifdef MEMSIG_ACCELERATE
static void blas_set_threads(int) {}  // Accelerate sizes its own thread pool
#else
// OpenBLAS's own thread control; declared here so we do not depend on its private headers.
extern "C" void openblas_set_num_threads(int);
static void blas_set_threads(int n) { openblas_set_num_threads(n); }
#endif

namespace memsig {

static int g_threads = 0;

void gemm_openblas(bool transA, bool transB, int M, int N, int K, float alpha, const float* A, const float* B, float beta,
                   float* C) {
  cblas_sgemm(CblasRowMajor, transA ? CblasTrans : CblasNoTrans, transB ? CblasTrans : CblasNoTrans, M, N, K, alpha, A,
              transA ? M : K, B, transB ? K : N, beta, C, N);
}

bool use_openblas() {
  static const bool openblas = [] {
    const char* env = std::getenv("MEMSIG_OPENBLAS");
    return env && *env && std::string(env) != "0";
  }();
  return openblas;
}

// Products with enough rows that packing B (K*N floats, once per call) costs little beside the
// M*N*K multiply-adds (the whole-sequence products: T*B rows) go through our kernels
// (engine/gemm_packed.h: AVX-512 where the CPU has it); the rest through OpenBLAS. With fewer
// rows, packing per call made a 64-row product slower than OpenBLAS (bench/gemm.md, "+pack").
static bool worth_packing(int M, int N, int K) { return M >= 512 && N >= 16 && K >= 8; }
// Aᵀ·B: packing B costs N·K against M·N·K multiply-adds, paid back from a few dozen rows.
static bool worth_packing_transposed(int M, int N, int K) { return M >= 32 && N >= 16 && K >= 64; }
constexpr int kTransAChunk = 512;

void gemm(bool transA, bool transB, int M, int N, int K, float alpha, const float* A,
          const float* B, float beta, float* C) {
  if (M == 0 || N == 0) return;
  if (K == 0) {  // C = beta * C
    for (int64_t i = 0; i < (int64_t)M * N; ++i) C[i] = beta == 0.0f ? 0.0f : beta * C[i];
    return;
  }
  thread_local PackedB packed;  // reused: no allocation per call once it is large enough
  if (M == 1 && !transA) {
    // One row (sampling at batch 1): a matrix-vector product. sgemm would pack B on every call
    // (OpenBLAS's Haswell path, which it takes on AMD Zen, has no small-matrix shortcut): 54% of
    // batch-1 sampling was that copy. sgemv reads B once, in place.
    if (transB) cblas_sgemv(CblasRowMajor, CblasNoTrans, N, K, alpha, B, K, A, 1, beta, C, 1);  // B [N,K]: C = B a
    else cblas_sgemv(CblasRowMajor, CblasTrans, K, N, alpha, B, N, A, 1, beta, C, 1);           // B [K,N]: C = Bᵀ a
    return;
  }
  if (transA) {
    // op(A) = Aᵀ: the weight gradients, dW[G, H] = dpreᵀ · h with K = all time steps × batch.
    // The kernel reads Aᵀ in place; K is cut into chunks of kTransAChunk rows so that each
    // chunk's packed B stays in L2 while every row block of C passes over it (one pass over C
    // per chunk). B transposed as well is rare here and stays on OpenBLAS.
    if (use_openblas() || transB || !worth_packing_transposed(M, N, K))
      return gemm_openblas(transA, transB, M, N, K, alpha, A, B, beta, C);
    for (int k0 = 0; k0 < K; k0 += kTransAChunk) {
      const int kc = std::min(kTransAChunk, K - k0);
      repack_b(packed, B + (size_t)k0 * N, N, kc, false);
      gemm_packed_a(true, M, alpha, A + (size_t)k0 * M, M, packed, k0 == 0 ? beta : 1.0f, C, N);
    }
    return;
  }
  if (use_openblas() || !worth_packing(M, N, K)) return gemm_openblas(transA, transB, M, N, K, alpha, A, B, beta, C);
  repack_b(packed, B, N, K, transB);
  gemm_packed(M, alpha, A, K, packed, beta, C, N);
}

namespace {

// One vector register's worth of floats: 8 in an AVX ymm register on x86; 4 in a NEON q register
// on AArch64 (wider GCC vectors there are passed through memory and vexp is not inlined: 16
// bytes keep every lane operation a single NEON instruction).
#if defined(__aarch64__)
typedef float vf __attribute__((vector_size(16)));
typedef int32_t vi __attribute__((vector_size(16)));
constexpr int kLanes = 4;
#else
typedef float vf __attribute__((vector_size(32)));
typedef int32_t vi __attribute__((vector_size(32)));
constexpr int kLanes = 8;
#endif

vf load(const float* p) { vf v; std::memcpy(&v, p, sizeof v); return v; }
void store(float* p, vf v) { std::memcpy(p, &v, sizeof v); }

// fast_exp, lane by lane (NaN lanes stay NaN; the integer path sees 0 for them, since converting
// a NaN to an integer is undefined).
vf vexp(vf in) {
  vf x = in < -87.0f ? vf{} - 87.0f : in;
  x = x > 88.0f ? vf{} + 88.0f : x;
  const vi is_num = in == in;
  x = is_num ? x : vf{};
  vi k = __builtin_convertvector(x * 1.44269504088896341f + 128.5f, vi);
  vf n = __builtin_convertvector(k - 128, vf);
  vf r = x - n * 0.693359375f + n * 2.12194440e-4f;
  vf p = r * 1.9875691500e-4f + 1.3981999507e-3f;
  p = p * r + 8.3334519073e-3f;
  p = p * r + 4.1665795894e-2f;
  p = p * r + 1.6666665459e-1f;
  p = p * r + 5.0000001201e-1f;
  vf y = p * r * r + r + 1.0f;
  vi bits = (k - 1) << 23;
  vf scale;
  std::memcpy(&scale, &bits, sizeof scale);
  return is_num ? y * scale : in;
}
vf vsigmoid(vf x) { return 1.0f / (1.0f + vexp(-x)); }
vf vtanh(vf x) {
  vf a = x < 0.0f ? -x : x;
  vf e = vexp(-2.0f * a);
  vf t = (1.0f - e) / (1.0f + e);
  return x < 0.0f ? -t : t;
}

template <class V, class S>
void map_array(const float* x, float* y, int64_t n, V vec, S scalar) {
  int64_t i = 0;
  for (; i + kLanes <= n; i += kLanes) store(y + i, vec(load(x + i)));
  for (; i < n; ++i) y[i] = scalar(x[i]);
}

}  // namespace

void exp_inplace(float* x, int64_t n) { map_array(x, x, n, vexp, fast_exp); }
void sigmoid_inplace(float* x, int64_t n) { map_array(x, x, n, vsigmoid, fast_sigmoid); }
void tanh_inplace(float* x, int64_t n) { map_array(x, x, n, vtanh, fast_tanh); }
void tanh_into(const float* x, float* y, int64_t n) { map_array(x, y, n, vtanh, fast_tanh); }

// Cores not already kept busy by other processes: all of them minus the 1-minute load average
// (rounded), at least one. Threads that spin at a barrier while another process holds their core
// slow every step down; measured here, a 2-thread run beside one busy process kept 47% of its
// speed and a 1-thread run 65%.
// The load average lags (a process started seconds ago is not in it yet), so the tasks runnable
// right now (/proc/stat's procs_running, which counts this process's running thread too) are
// taken as well, whichever shows more.
int runnable_tasks() {
  int n = -1;
  if (FILE* f = std::fopen("/proc/stat", "r")) {
    char line[256];
    while (std::fgets(line, sizeof line, f))
      if (std::sscanf(line, "procs_running %d", &n) == 1) break;
    std::fclose(f);
  }
  return n;
}

static int idle_cores(int cores) {
  double load = 0;
  if (FILE* f = std::fopen("/proc/loadavg", "r")) {
    if (std::fscanf(f, "%lf", &load) != 1) load = 0;
    std::fclose(f);
  }
  int busy = std::max((int)(load + 0.5), runnable_tasks() - 1);
  return std::max(1, std::min(cores, cores - busy));
}

static bool g_threads_fixed = false;
bool threads_fixed_by_user() { return g_threads_fixed; }

void set_threads(int n) {
  g_threads_fixed = n > 0;
  if (n <= 0) {  // OMP_NUM_THREADS when set, else the cores other processes leave idle
    const char* env = std::getenv("OMP_NUM_THREADS");
    n = env ? std::atoi(env) : 0;
    g_threads_fixed = n > 0;
  }
  if (n <= 0) n = idle_cores((int)std::thread::hardware_concurrency());
  set_adapted_threads(n);
}

void set_adapted_threads(int n) {
  n = std::max(n, 1);
  g_threads = n;
  blas_set_threads(n);
#ifdef _OPENMP
  omp_set_num_threads(n);
#endif
}

int get_threads() {
  if (g_threads == 0) set_threads(0);
  return g_threads;
}

}  // namespace memsig
