// gemm_packed.cpp — C = alpha · A · op(B) + beta · C with B packed once (see gemm_packed.h).
//
// A student's guide, in four parts.
//
// 1. The register tile (micro-kernel).  The innermost routine computes one small block of C,
//    MR rows × NR columns, entirely in vector registers:
//        acc = 0
//        for k = 0 .. kc-1:                          (one rank-1 update per k)
//          b[0..NR) = B[k, j0 .. j0+NR)              NR/16 vector loads (AVX-512: 3 zmm)
//          for i = 0 .. MR-1:
//            a = broadcast A[i0+i, k]                one float copied to all 16 lanes
//            acc[i][0..NR) += a * b[0..NR)           NR/16 fused multiply-adds
//        C[i0.., j0..] = alpha * acc + beta * C
//    AVX-512: MR×NR = 8×48 → 24 zmm accumulators + 3 for b + 1 for a (of 32 registers). Per k:
//    3 loads and 8 broadcasts for 24 FMAs (768 flops); the two FMA units need 12 cycles for
//    them, and 24 independent accumulators hide the FMA latency (4 cycles × 2 units = 8 needed).
//    (An 8×32 tile does 8 broadcasts per 16 FMAs and, measured here, stalls at ~80% of peak;
//    8×48 reaches ~90%. 8 rows suit the RNN: the batch of 64 is 8 tiles high.)
//    AVX2: 6×16 → 12 ymm accumulators + 2 + 1 (of 16). NEON (AArch64): 8×12 → 24 q registers
//    of 4 floats + 3 for b + up to 4 for a (of 32). Generic: 4×16 in plain C++.
//    Every kernel is a template over the rows (1..MR) and the vectors per row (1..NR/16), so
//    the last rows of A and the last, narrower panel of B need no special code.
//
// 2. Packing.  At each k the kernel wants NR consecutive floats of B. B (op(B) is [K,N]) is cut
//    into column panels NR wide; panel q stores op(B)[k, panel's columns] for k = 0..K-1, one
//    after another (k-major, NR floats per k, zero-padded past N), so the kernel reads B as one
//    aligned forward stream.  pack_b() does this once; BLAS redoes it on every call.
//    A is not packed: the kernel reads A[i0+i, k] from the caller's rows (8 forward streams,
//    each cache line used for 16 consecutive k), which costs nothing per call.
//
// 3. The loop nest (outermost first), per thread:
//      for each row block i0 of at most MC of this thread's rows   (MC·K floats of A stay in L2)
//        for each of this thread's column panels p
//          for each column group g                                 (1 unless groups > 1)
//            for each k block pc of KC                             (few C loads/stores per k)
//              for each MR-row tile i of the block                 (B panel reused from L1/L2)
//                micro-kernel: C[i tile, p tile] (+)= A[i rows, pc] · B[pc, p]
//          epilogue(rows of the block, columns of panel p)         (final, still in cache)
//    Threads (get_threads() of them) form a grid: the rows are split when packed B is small
//    enough to stay in each core's L2 (then each thread touches only its own rows of A and C;
//    in the RNN these are the rows its gate loop works on), else the column panels (each core
//    then streams only its share of a large B).  No barrier inside: one parallel region per call.
//    For the RNN (M = B = 64, K = H) there is one row block, and each panel of B is used for all
//    of a thread's rows while it is in L1/L2.
//
// 4. Dispatch.  The kernels are compiled with __attribute__((target("avx512f,fma"))) etc., so
//    this file needs no -march flag; __builtin_cpu_supports picks one at run time. On AArch64
//    the NEON kernel needs no flag either (Advanced SIMD is part of the base architecture); it
//    is still asked for at run time (Linux: the ASIMD bit of getauxval(AT_HWCAP)).
#include "engine/gemm_packed.h"

// The AVX kernels exist on x86 only; elsewhere (Arm, ...) their names are known but unsupported
// (and the NEON kernel's name likewise on x86).
#ifndef MEMSIG_GEMM_X86
#if defined(__x86_64__) || defined(__i386__)
#define MEMSIG_GEMM_X86 1
#else
#define MEMSIG_GEMM_X86 0
#endif
#endif
#if MEMSIG_GEMM_X86
#include <immintrin.h>
#endif
// The NEON kernel exists on AArch64 only (64-bit Arm: Apple silicon, Graviton, Ampere, Snapdragon).
#ifndef MEMSIG_GEMM_NEON
#if defined(__aarch64__) && defined(__ARM_NEON)
#define MEMSIG_GEMM_NEON 1
#else
#define MEMSIG_GEMM_NEON 0
#endif
#endif
#if MEMSIG_GEMM_NEON
#include <arm_neon.h>
#if defined(__linux__)
#include <asm/hwcap.h>
#include <sys/auxv.h>
#endif
#endif
#ifdef _OPENMP
#include <omp.h>
#endif
#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <stdexcept>

#include "engine/kernels.h"

namespace memsig {

namespace {

// One micro-kernel call computes a ROWS × (NV·LANES) block of C, for ROWS <= MR and NV <= the
// kernel's vectors per row (template arguments; the tables below hold every combination):
//     C[i, j] = alpha · Σ_{k < kc} A[i, k] · B[k, j] + beta · C[i, j]     (beta = 0: C is not read)
// A: the caller's A at the block's first row and first k, read in place: A[i, k] is
//    A[i·lda + k] (row-major) or, with TA (a transposed A, stored [K, M]), A[k·lda + i].
// B: a packed panel at the first k: NR floats per k (the panel width, whatever NV), 64-byte aligned.
using MicroKernel = void (*)(int kc, const float* A, int lda, const float* B, float* C, int ldc,
                             float alpha, float beta);
// Element (i, k) of the A block: TA picks the layout at compile time, so neither kernel pays for the other.
template <bool TA>
inline const float* a_at(const float* A, int lda, int i, int k) {
  return TA ? A + (size_t)k * lda + i : A + (size_t)i * lda + k;
}

constexpr int kMaxMR = 8, kMaxNR = 48, kMaxNV = 3;  // the largest of any kernel

// ---------------------------------------------------------------------------------------------
// Generic C++: up to 4×16. The compiler may vectorise the j loops; nothing else is special.
// ---------------------------------------------------------------------------------------------
template <int ROWS, int NV, bool TA>
void kernel_generic(int kc, const float* A, int lda, const float* B, float* C, int ldc, float alpha,
                    float beta) {
  constexpr int NR = 16;
  float acc[ROWS][NR] = {};
  for (int k = 0; k < kc; ++k, B += NR)
    for (int i = 0; i < ROWS; ++i) {
      const float a = *a_at<TA>(A, lda, i, k);
#pragma omp simd
      for (int j = 0; j < NR; ++j) acc[i][j] += a * B[j];  // one row of the rank-1 update
    }
  for (int i = 0; i < ROWS; ++i) {
    float* c = C + (size_t)i * ldc;
    for (int j = 0; j < NR; ++j) c[j] = beta == 0.0f ? alpha * acc[i][j] : alpha * acc[i][j] + beta * c[j];
  }
}

#if MEMSIG_GEMM_X86
// ---------------------------------------------------------------------------------------------
// AVX2 + FMA: up to 6×16 = 6 rows × 2 ymm of 8 floats (12 accumulators of 16 registers).
// ---------------------------------------------------------------------------------------------
template <int ROWS, int NV, bool TA>
__attribute__((target("avx2,fma"))) void kernel_avx2(int kc, const float* A, int lda, const float* B,
                                                     float* C, int ldc, float alpha, float beta) {
  constexpr int NR = 16;
  __m256 acc[ROWS][NV];
#pragma GCC unroll 8
  for (int i = 0; i < ROWS; ++i)
#pragma GCC unroll 2
    for (int v = 0; v < NV; ++v) acc[i][v] = _mm256_setzero_ps();
#pragma GCC unroll 4
  for (int k = 0; k < kc; ++k, B += NR) {
    __m256 b[NV];
#pragma GCC unroll 2
    for (int v = 0; v < NV; ++v) b[v] = _mm256_load_ps(B + 8 * v);  // B[k, 8v .. 8v+7]
#pragma GCC unroll 8
    for (int i = 0; i < ROWS; ++i) {
      const __m256 a = _mm256_broadcast_ss(a_at<TA>(A, lda, i, k));  // A[i, k] in all 8 lanes
#pragma GCC unroll 2
      for (int v = 0; v < NV; ++v) acc[i][v] = _mm256_fmadd_ps(a, b[v], acc[i][v]);
    }
  }
  const __m256 va = _mm256_set1_ps(alpha), vb = _mm256_set1_ps(beta);
#pragma GCC unroll 8
  for (int i = 0; i < ROWS; ++i)
#pragma GCC unroll 2
    for (int v = 0; v < NV; ++v) {
      float* c = C + (size_t)i * ldc + 8 * v;
      __m256 r = _mm256_mul_ps(va, acc[i][v]);
      if (beta != 0.0f) r = _mm256_fmadd_ps(vb, _mm256_loadu_ps(c), r);
      _mm256_storeu_ps(c, r);
    }
}

// ---------------------------------------------------------------------------------------------
// AVX-512F: up to 8×48 = 8 rows × 3 zmm of 16 floats (24 accumulators of 32 registers).
// Per k: 3 loads of B, 8 broadcasts of A, 24 FMAs. (8×32 reaches ~80% of this CPU's peak in a
// loop that stays in L1, 8×48 ~90%: the broadcasts, not the FMAs, are what limits 8×32.)
// ---------------------------------------------------------------------------------------------
template <int ROWS, int NV, bool TA>
__attribute__((target("avx512f,fma"))) void kernel_avx512(int kc, const float* A, int lda, const float* B,
                                                          float* C, int ldc, float alpha, float beta) {
  constexpr int NR = 48;
  __m512 acc[ROWS][NV];
#pragma GCC unroll 8
  for (int i = 0; i < ROWS; ++i) {
#pragma GCC unroll 3
    for (int v = 0; v < NV; ++v) acc[i][v] = _mm512_setzero_ps();
    _mm_prefetch((const char*)(C + (size_t)i * ldc), _MM_HINT_T0);  // C is needed at the end
  }
#pragma GCC unroll 4
  for (int k = 0; k < kc; ++k, B += NR) {
    __m512 b[NV];
#pragma GCC unroll 3
    for (int v = 0; v < NV; ++v) b[v] = _mm512_load_ps(B + 16 * v);  // B[k, 16v .. 16v+15]
#pragma GCC unroll 8
    for (int i = 0; i < ROWS; ++i) {
      const __m512 a = _mm512_set1_ps(*a_at<TA>(A, lda, i, k));  // A[i, k] in all 16 lanes
#pragma GCC unroll 3
      for (int v = 0; v < NV; ++v) acc[i][v] = _mm512_fmadd_ps(a, b[v], acc[i][v]);
    }
  }
  const __m512 va = _mm512_set1_ps(alpha), vb = _mm512_set1_ps(beta);
#pragma GCC unroll 8
  for (int i = 0; i < ROWS; ++i)
#pragma GCC unroll 3
    for (int v = 0; v < NV; ++v) {
      float* c = C + (size_t)i * ldc + 16 * v;
      __m512 r = _mm512_mul_ps(va, acc[i][v]);
      if (beta != 0.0f) r = _mm512_fmadd_ps(vb, _mm512_loadu_ps(c), r);
      _mm512_storeu_ps(c, r);
    }
}

bool has_avx512() { return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("fma"); }
bool has_avx2() { return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"); }
#endif  // MEMSIG_GEMM_X86

#if MEMSIG_GEMM_NEON
// ---------------------------------------------------------------------------------------------
// NEON (AArch64 Advanced SIMD): up to 8×12 = 8 rows × 3 q registers of 4 floats (24 accumulators
// of the 32 vector registers; 3 hold b, up to 4 hold a). Per k: 3 loads of B, 8 loads of A (2 with
// A transposed), 24 FMAs.
// AArch64's fmla can multiply by one lane of a register ("by element"), so A needs no broadcast:
// a float loaded into lane 0 (vfmaq_n_f32), or, with A transposed, 4 rows of A[k, i0 ..] in one
// load and each lane used in turn (vfmaq_laneq_f32). 8 rows, as for AVX-512: the batch of 64 is
// 8 tiles high. 12 columns: 80 = 6·12 + 8, so the RNN's last panel is 2 whole vectors.
// ---------------------------------------------------------------------------------------------
template <int ROWS, int NV, bool TA>
void kernel_neon(int kc, const float* A, int lda, const float* B, float* C, int ldc, float alpha, float beta) {
  constexpr int NR = 12;
  float32x4_t acc[ROWS][NV];
#pragma GCC unroll 8
  for (int i = 0; i < ROWS; ++i)
#pragma GCC unroll 3
    for (int v = 0; v < NV; ++v) acc[i][v] = vdupq_n_f32(0.0f);
#pragma GCC unroll 2
  for (int k = 0; k < kc; ++k, B += NR) {
    float32x4_t b[NV];
#pragma GCC unroll 3
    for (int v = 0; v < NV; ++v) b[v] = vld1q_f32(B + 4 * v);  // B[k, 4v .. 4v+3]
    if constexpr (TA && ROWS % 4 == 0) {
      // A[k, i0 .. i0+ROWS) are consecutive: 4 rows per load, lane l multiplies row 4q + l.
      const float* ak = A + (size_t)k * lda;
#pragma GCC unroll 2
      for (int q = 0; q < ROWS / 4; ++q) {
        const float32x4_t a = vld1q_f32(ak + 4 * q);
#pragma GCC unroll 3
        for (int v = 0; v < NV; ++v) {
          acc[4 * q + 0][v] = vfmaq_laneq_f32(acc[4 * q + 0][v], b[v], a, 0);
          acc[4 * q + 1][v] = vfmaq_laneq_f32(acc[4 * q + 1][v], b[v], a, 1);
          acc[4 * q + 2][v] = vfmaq_laneq_f32(acc[4 * q + 2][v], b[v], a, 2);
          acc[4 * q + 3][v] = vfmaq_laneq_f32(acc[4 * q + 3][v], b[v], a, 3);
        }
      }
    } else {
#pragma GCC unroll 8
      for (int i = 0; i < ROWS; ++i) {
        // Four rows at a time: without this (empty) barrier GCC loads all 8 values of A first, and
        // 24 + 3 + 8 registers do not fit in 32 (two accumulators went to the stack).
        if (i == 4) asm volatile("" ::: "memory");
        const float a = *a_at<TA>(A, lda, i, k);  // A[i, k], used by element: no broadcast needed
#pragma GCC unroll 3
        for (int v = 0; v < NV; ++v) acc[i][v] = vfmaq_n_f32(acc[i][v], b[v], a);
      }
    }
  }
  const float32x4_t va = vdupq_n_f32(alpha);
#pragma GCC unroll 8
  for (int i = 0; i < ROWS; ++i)
#pragma GCC unroll 3
    for (int v = 0; v < NV; ++v) {
      float* c = C + (size_t)i * ldc + 4 * v;
      float32x4_t r = vmulq_f32(va, acc[i][v]);
      if (beta != 0.0f) r = vfmaq_n_f32(r, vld1q_f32(c), beta);  // r + beta · c
      vst1q_f32(c, r);
    }
}

bool has_neon() {
#if defined(__linux__)
  return (getauxval(AT_HWCAP) & HWCAP_ASIMD) != 0;
#else
  return true;  // macOS and others: every AArch64 CPU they run on has Advanced SIMD
#endif
}
#endif  // MEMSIG_GEMM_NEON
bool always() { return true; }

struct KernelInfo {
  const char* name;
  int mr, nr;   // register tile: up to mr rows × nr columns; nr is also the panel width of packed B
  int lanes;    // floats per vector: a block is computed in whole vectors (nv = ceil(cols / lanes))
  int kc;       // default k block (512: measured; larger blocks mean fewer passes over C, and
                //  on this CPU B streams from L2 fast enough even when KC×NR exceeds L1)
  MicroKernel fn[2][kMaxNV + 1][kMaxMR + 1];  // fn[transA][nv][rows], rows = 1..mr, nv = 1..nr/lanes
  bool (*supported)();
};

#define MEMSIG_ROWS_1_TO_4(K, NV, TA) nullptr, K<1, NV, TA>, K<2, NV, TA>, K<3, NV, TA>, K<4, NV, TA>
#define MEMSIG_ROWS_1_TO_6(K, NV, TA) MEMSIG_ROWS_1_TO_4(K, NV, TA), K<5, NV, TA>, K<6, NV, TA>
#define MEMSIG_ROWS_1_TO_8(K, NV, TA) MEMSIG_ROWS_1_TO_6(K, NV, TA), K<7, NV, TA>, K<8, NV, TA>

// Best first.
constexpr const char* kKernelNames[] = {"avx512", "avx2", "neon", "generic"};  // all there are, anywhere
constexpr KernelInfo kKernels[] = {
#if MEMSIG_GEMM_X86
    {"avx512", 8, 48, 16, 512,
     {{{}, {MEMSIG_ROWS_1_TO_8(kernel_avx512, 1, false)}, {MEMSIG_ROWS_1_TO_8(kernel_avx512, 2, false)},
       {MEMSIG_ROWS_1_TO_8(kernel_avx512, 3, false)}},
      {{}, {MEMSIG_ROWS_1_TO_8(kernel_avx512, 1, true)}, {MEMSIG_ROWS_1_TO_8(kernel_avx512, 2, true)},
       {MEMSIG_ROWS_1_TO_8(kernel_avx512, 3, true)}}},
     has_avx512},
    {"avx2", 6, 16, 8, 512,
     {{{}, {MEMSIG_ROWS_1_TO_6(kernel_avx2, 1, false)}, {MEMSIG_ROWS_1_TO_6(kernel_avx2, 2, false)}},
      {{}, {MEMSIG_ROWS_1_TO_6(kernel_avx2, 1, true)}, {MEMSIG_ROWS_1_TO_6(kernel_avx2, 2, true)}}},
     has_avx2},
#endif
#if MEMSIG_GEMM_NEON
    {"neon", 8, 12, 4, 512,
     {{{}, {MEMSIG_ROWS_1_TO_8(kernel_neon, 1, false)}, {MEMSIG_ROWS_1_TO_8(kernel_neon, 2, false)},
       {MEMSIG_ROWS_1_TO_8(kernel_neon, 3, false)}},
      {{}, {MEMSIG_ROWS_1_TO_8(kernel_neon, 1, true)}, {MEMSIG_ROWS_1_TO_8(kernel_neon, 2, true)},
       {MEMSIG_ROWS_1_TO_8(kernel_neon, 3, true)}}},
     has_neon},
#endif
    {"generic", 4, 16, 16, 512,
     {{{}, {MEMSIG_ROWS_1_TO_4(kernel_generic, 1, false)}}, {{}, {MEMSIG_ROWS_1_TO_4(kernel_generic, 1, true)}}},
     always},
};
constexpr int kKernelCount = sizeof kKernels / sizeof kKernels[0];
constexpr bool fits_edge_buffer(int i) {
  return i == kKernelCount || (kKernels[i].mr <= kMaxMR && kKernels[i].nr <= kMaxNR && fits_edge_buffer(i + 1));
}
static_assert(fits_edge_buffer(0), "an edge tile would not fit the edge buffer");

bool known_kernel_name(const std::string& name) {  // built here or not
  for (const char* known : kKernelNames)
    if (name == known) return true;
  return false;
}
const KernelInfo* find_kernel(const std::string& name) {
  for (const KernelInfo& k : kKernels)
    if (name == k.name) return &k;
  return nullptr;
}
const KernelInfo* best_kernel() {
  for (const KernelInfo& k : kKernels)
    if (k.supported()) return &k;
  return &kKernels[kKernelCount - 1];
}

std::atomic<const KernelInfo*> g_kernel{nullptr};
int g_kc = 0, g_mc = 0;  // set_gemm_blocking(); 0 = defaults

// The current kernel; on first use taken from $MEMSIG_GEMM (else the best supported).
const KernelInfo& current_kernel() {
  static std::once_flag once;
  std::call_once(once, [] {
    const KernelInfo* k = best_kernel();
    if (const char* env = std::getenv("MEMSIG_GEMM"); env && *env && std::strcmp(env, "auto") != 0) {
      const KernelInfo* want = find_kernel(env);
      if (!want && !known_kernel_name(env))
        std::fprintf(stderr, "memsig: MEMSIG_GEMM=%s is not a kernel (avx512, avx2, neon, generic, auto); using %s\n",
                     env, k->name);
      else if (!want || !want->supported())  // not built for this architecture, or not on this CPU
        std::fprintf(stderr, "memsig: MEMSIG_GEMM=%s: this CPU lacks it; using %s\n", env, k->name);
      else
        k = want;
    }
    const KernelInfo* none = nullptr;
    g_kernel.compare_exchange_strong(none, k);  // unless set_gemm_kernel() came first
  });
  return *g_kernel.load();
}

void* aligned_floats(size_t n) {
  size_t bytes = (n * sizeof(float) + 63) / 64 * 64;
  void* p = std::aligned_alloc(64, bytes ? bytes : 64);
  if (!p) throw std::bad_alloc();
  return p;
}

// C[rows×cols] = alpha · T + beta · C, for an edge tile computed into T (leading dimension ldt).
void merge_tile(float* C, int ldc, const float* T, int ldt, int rows, int cols, float alpha, float beta) {
  for (int i = 0; i < rows; ++i)
    for (int j = 0; j < cols; ++j) {
      float& c = C[(size_t)i * ldc + j];
      c = beta == 0.0f ? alpha * T[i * ldt + j] : alpha * T[i * ldt + j] + beta * c;
    }
}

// Below this many multiply-adds a call stays on one thread (a parallel region costs ~microseconds).
constexpr double kParallelMinMacs = 1 << 17;
// The rows of A one thread works on at a time (MC×K floats) should stay in L2: 1 MB of 2 MB here.
constexpr size_t kABlockFloats = 256 * 1024;
// Threads split the rows of C when packed B is at most this large (it then stays in every core's
// L2 and each thread touches only its own rows of A and C), else the column panels.
constexpr size_t kRowSplitMaxBFloats = 1 << 20;

int split_override() {  // MEMSIG_GEMM_SPLIT=rows|cols (tuning experiments)
  static int v = [] {
    const char* e = std::getenv("MEMSIG_GEMM_SPLIT");
    return !e ? 0 : std::strcmp(e, "rows") == 0 ? 1 : std::strcmp(e, "cols") == 0 ? 2 : 0;
  }();
  return v;
}

}  // namespace

// ---- kernel selection -----------------------------------------------------------------------

bool set_gemm_kernel(const std::string& name) {
  const KernelInfo* k = name == "auto" ? best_kernel() : find_kernel(name);
  if (!k) {
    if (known_kernel_name(name)) return false;  // not built for this architecture
    throw std::invalid_argument("unknown GEMM kernel '" + name + "' (avx512, avx2, neon, generic, auto)");
  }
  if (!k->supported()) return false;
  current_kernel();  // let the first-use initialisation happen before, not after, this choice
  g_kernel.store(k);
  return true;
}

std::string gemm_kernel() { return current_kernel().name; }

bool gemm_kernel_supported(const std::string& name) {
  if (name == "auto") return true;
  const KernelInfo* k = find_kernel(name);
  return k && k->supported();
}

std::vector<std::string> gemm_kernels_supported() {
  std::vector<std::string> out;
  for (const KernelInfo& k : kKernels)
    if (k.supported()) out.push_back(k.name);
  return out;
}

void set_gemm_blocking(int kc, int mc) {
  g_kc = std::max(kc, 0);
  g_mc = std::max(mc, 0);
}

// ---- packing B ------------------------------------------------------------------------------

void PackedB::Free::operator()(float* p) const { std::free(p); }

void repack_b(PackedB& out, const float* B, int N, int K, bool transB, int groups) {
  if (N < 0 || K < 0 || groups < 1 || N % groups != 0)
    throw std::invalid_argument("pack_b: need N, K >= 0 and N a multiple of groups");
  const KernelInfo& kern = current_kernel();
  const int nr = kern.nr, gw = N / groups, P = (gw + nr - 1) / nr;
  out.N = N;
  out.K = K;
  out.transB = transB;
  out.groups = groups;
  out.group_width = gw;
  out.nr = nr;
  out.panels_per_group = P;
  out.kernel = kern.name;
  const size_t n = out.floats();
  if (n > out.capacity_) {
    out.data_.reset((float*)aligned_floats(n));
    out.capacity_ = n;
  }
  float* data = out.data_.get();
  // Panel q = (group g, panel p) holds columns n = g*gw + p*nr + j, j < nr, of op(B), where
  // op(B)[k, n] = B[n*K + k] (transB: B stored [N,K]) or B[k*N + n] (B stored [K,N]).
  const int panels = groups * P;
#pragma omp parallel for schedule(static) if ((double)N * K >= 1 << 16) num_threads(get_threads())
  for (int q = 0; q < panels; ++q) {
    const int g = q / P, p = q % P;
    const int col0 = g * gw + p * nr, cols = std::min(nr, gw - p * nr);
    float* dst = data + (size_t)q * K * nr;
    if (transB) {  // a transpose, done in blocks of 64 k so that the block being written stays in L1
      for (int k0 = 0; k0 < K; k0 += 64) {
        const int k1 = std::min(K, k0 + 64);
        for (int j = 0; j < nr; ++j) {
          const float* src = B + (size_t)(col0 + j) * K;  // column col0 + j of op(B) = a row of B
          for (int k = k0; k < k1; ++k) dst[(size_t)k * nr + j] = j < cols ? src[k] : 0.0f;
        }
      }
    } else {  // read each row of B contiguously
      for (int k = 0; k < K; ++k) {
        const float* src = B + (size_t)k * N + col0;
        float* d = dst + (size_t)k * nr;
        for (int j = 0; j < cols; ++j) d[j] = src[j];
        for (int j = cols; j < nr; ++j) d[j] = 0.0f;
      }
    }
  }
}

PackedB pack_b(const float* B, int N, int K, bool transB, int groups) {
  PackedB out;
  repack_b(out, B, N, K, transB, groups);
  return out;
}

// ---- the multiplication ---------------------------------------------------------------------

void gemm_packed(int M, float alpha, const float* A, int lda, const PackedB& Bp, float beta, float* C,
                 int ldc, const GemmEpilogue& epilogue) {
  gemm_packed_a(false, M, alpha, A, lda, Bp, beta, C, ldc, epilogue);
}

void gemm_packed_a(bool transA, int M, float alpha, const float* A, int lda, const PackedB& Bp, float beta, float* C,
                   int ldc, const GemmEpilogue& epilogue) {
  const int N = Bp.N, K = Bp.K;
  if (M <= 0 || N <= 0) return;
  if (lda < (transA ? M : K) || ldc < N)
    throw std::invalid_argument(transA ? "gemm_packed: need lda >= M (A transposed) and ldc >= N"
                                       : "gemm_packed: need lda >= K and ldc >= N");
  const KernelInfo* kp = find_kernel(Bp.kernel);
  if (!kp || kp->nr != Bp.nr) throw std::invalid_argument("gemm_packed: B was not packed by pack_b");
  const KernelInfo& kern = *kp;
  const int MR = kern.mr, NR = kern.nr;
  const int KC = g_kc > 0 ? g_kc : kern.kc;
  // Row block: as many MR-row panels as keep MC×K floats of A in L2.
  int MC = g_mc > 0 ? g_mc : (int)std::min<size_t>(kABlockFloats / std::max(K, 1), 1 << 20);
  MC = std::max(MR, MC / MR * MR);
  const int P = Bp.panels_per_group, groups = Bp.groups, gw = Bp.group_width;
  const int row_panels = (M + MR - 1) / MR;

  // Threads form a grid: tm parts of the rows × tn parts of the column panels.
  const int nt = (double)M * N * K >= kParallelMinMacs ? get_threads() : 1;
  int tm = 1;
  const bool rows_first = split_override() ? split_override() == 1 : Bp.floats() <= kRowSplitMaxBFloats;
  if (rows_first || P < nt)
    for (int t = nt; t > 1; --t)
      if (nt % t == 0 && row_panels >= 2 * t) { tm = t; break; }
  const int tn = nt / tm;

  // One share of the grid: rows [r_begin, r_end) (whole MR panels) × column panels [p_begin, p_end).
  auto run_share = [&](int share, float* edge) {
    const int ti = share / tn, tj = share % tn;
    const int r_begin = std::min(M, row_panels * ti / tm * MR), r_end = std::min(M, row_panels * (ti + 1) / tm * MR);
    const int p_begin = P * tj / tn, p_end = P * (tj + 1) / tn;
    for (int i0 = r_begin; i0 < r_end; i0 += MC) {
      const int i1 = std::min(r_end, i0 + MC);
      for (int p = p_begin; p < p_end; ++p) {
        const int col = p * NR, cols = std::min(NR, gw - col);  // columns within each group
        // The last panel of a group may be narrower: compute only the vectors it needs, and go
        // through the edge buffer only when its width is not a whole number of vectors.
        const int nv = (cols + kern.lanes - 1) / kern.lanes;
        const MicroKernel* fn = kern.fn[transA][nv];
        const bool whole = cols == nv * kern.lanes;
        for (int g = 0; g < groups; ++g) {
          const float* Bq = Bp.panel(g * P + p);
          float* Cg = C + (size_t)g * gw + col;
          if (K == 0)  // C = beta · C
            for (int i = i0; i < i1; ++i)
              for (int j = 0; j < cols; ++j)
                Cg[(size_t)i * ldc + j] = beta == 0.0f ? 0.0f : beta * Cg[(size_t)i * ldc + j];
          for (int pc = 0; pc < K; pc += KC) {
            const int kc = std::min(KC, K - pc);
            const float b = pc == 0 ? beta : 1.0f;  // later k blocks add to the first
            for (int i = i0; i < i1; i += MR) {
              const int rows = std::min(MR, i1 - i);
              const float* a = transA ? A + (size_t)pc * lda + i : A + (size_t)i * lda + pc;
              float* c = Cg + (size_t)i * ldc;
              if (whole) {
                fn[rows](kc, a, lda, Bq + (size_t)pc * NR, c, ldc, alpha, b);
              } else {
                fn[rows](kc, a, lda, Bq + (size_t)pc * NR, edge, kMaxNR, 1.0f, 0.0f);
                merge_tile(c, ldc, edge, kMaxNR, rows, cols, alpha, b);
              }
            }
          }
        }
        if (epilogue) epilogue(i0, i1 - i0, col, cols);
      }
    }
  };

#pragma omp parallel num_threads(nt) if (nt > 1)
  {
    alignas(64) float edge[kMaxMR * kMaxNR];  // partial-vector tiles are computed here, then merged
#ifdef _OPENMP
    const int tid = omp_get_thread_num(), team = omp_get_num_threads();
#else
    const int tid = 0, team = 1;
#endif
    // Normally share = thread; a smaller team (e.g. when called inside another parallel region)
    // takes on the missing threads' shares too.
    for (int share = tid; share < nt; share += team) run_share(share, edge);
  }
}

}  // namespace memsig
