// gemm_packed.h — a GEMM whose right-hand matrix is packed once and multiplied many times.
//
// The recurrence of an LSTM/GRU multiplies the same weight W_hh at every one of T time steps:
//     forward   gates[B, G*H] += h_{t-1}[B, H] · W_hhᵀ        (W_hh stored [G*H, H])
//     backward  dh[B, H]       = dpre[B, G*H] · W_hh           (the same W_hh, not transposed)
// A BLAS call re-arranges ("packs") W_hh into its cache-friendly layout on every call; here the
// caller packs it once (per batch: the weights change only in the optimizer step) and then runs
// T multiplications against the packed copy with our own AVX-512 / AVX2 / NEON / plain C++
// micro-kernels.
//
//   PackedB W = pack_b(w_hh, /*N=*/4 * H, /*K=*/H, /*transB=*/true);   // once per batch
//   for (int t = 0; t < T; ++t)
//     gemm_packed(B, h_prev, H, W, /*beta=*/1.0f, gates_t, 4 * H);     // gates_t += h_prev · W_hhᵀ
//   // backward: the same w_hh read as [K = 4H, N = H], not transposed
//   PackedB Wt = pack_b(w_hh, /*N=*/H, /*K=*/4 * H, /*transB=*/false);
//   gemm_packed(B, dpre_t, 4 * H, Wt, /*beta=*/0.0f, dh_prev, H);        // dh_prev = dpre_t · W_hh
//
// What is computed:  C[M,N] = alpha · A[M,K] · op(B) + beta · C, row-major, where op(B) = B when B
// is stored [K,N] (transB = false) and op(B) = Bᵀ when B is stored [N,K] (transB = true).
// With beta = 0, C is not read (NaNs in it do not propagate), as in BLAS.
//
// How (gemm_packed.cpp has the full story): B is cut into column panels NR wide (48 floats for
// AVX-512, 16 for AVX2 and generic, 12 for NEON), each stored k-major so that a micro-kernel reads it as one
// contiguous stream; A is read in place; a micro-kernel keeps an MR×NR tile of C in registers
// (8×48 floats = 24 zmm for AVX-512, 8×12 = 24 q registers for NEON) and adds one rank-1 update per k. OpenMP threads
// (get_threads() of them) share out the rows of C, or its column panels when B is large.
//
// Choosing the micro-kernel: the best one the CPU supports ("avx512" > "avx2" > "generic" on x86,
// "neon" > "generic" on AArch64) is picked at run time (cpuid; on Arm Linux the HWCAP bits), so the
// library needs no -march flag. Force one with the environment
// variable MEMSIG_GEMM=avx512|avx2|neon|generic|auto (read on first use) or set_gemm_kernel(). A
// PackedB remembers the kernel it was packed for (its panel width depends on it), and
// gemm_packed() always runs that kernel: switch kernels before packing.
#pragma once
#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace memsig {

// ---- micro-kernel selection -----------------------------------------------------------------

// Selects the micro-kernel used by later pack_b() calls: "avx512", "avx2", "neon", "generic", or "auto"
// (the best this CPU supports). Returns false, and changes nothing, when the CPU lacks the
// instructions; throws std::invalid_argument for any other name.
bool set_gemm_kernel(const std::string& name);
std::string gemm_kernel();                                  // the kernel pack_b() uses now
bool gemm_kernel_supported(const std::string& name);        // can this CPU run it?
std::vector<std::string> gemm_kernels_supported();          // best first, "generic" last

// ---- packed B -------------------------------------------------------------------------------

// B re-arranged for the micro-kernels. Move-only (it can be megabytes); pack_b() or repack_b()
// fill it. Layout: `groups` column groups of N/groups columns each; every group is cut into
// panels of nr columns (the last one zero-padded); panel q holds, for k = 0..K-1, the nr values
// op(B)[k, cols of the panel] contiguously:  data[(q * K + k) * nr + j].
struct PackedB {
  int N = 0, K = 0;          // op(B) is [K, N]
  bool transB = false;       // how the source was stored (only recorded)
  int groups = 1;            // column groups (see gemm_packed's epilogue)
  int group_width = 0;       // N / groups
  int nr = 0;                // panel width of `kernel`
  int panels_per_group = 0;  // ceil(group_width / nr)
  std::string kernel;        // the micro-kernel this packing is for

  const float* panel(int q) const { return data_.get() + (size_t)q * K * nr; }
  size_t floats() const { return (size_t)groups * panels_per_group * K * nr; }

 private:
  struct Free { void operator()(float* p) const; };
  std::unique_ptr<float[], Free> data_;
  size_t capacity_ = 0;  // floats allocated (repack_b reuses the allocation when it fits)
  friend void repack_b(PackedB&, const float*, int, int, bool, int);
};

// Packs B (stored [K,N] row-major, or [N,K] when transB) for the current kernel.
// groups > 1 splits the N columns into that many equal groups (N % groups == 0), each padded to
// whole panels on its own; the result is the same, only the epilogue's tiles change (below).
PackedB pack_b(const float* B, int N, int K, bool transB, int groups = 1);
// The same into an existing PackedB, reusing its memory when large enough (no allocation per
// batch when the weights are re-packed after every optimizer step).
void repack_b(PackedB& out, const float* B, int N, int K, bool transB, int groups = 1);

// ---- the multiplication ---------------------------------------------------------------------

// Optional fused epilogue: called once for every finished block of C, on the thread that
// computed it, right after its last k (while it is still in L1/L2). The block is
//     rows [row0, row0 + rows)  ×  columns g * group_width + [col0, col0 + cols)  for every group g,
// i.e. the same columns of every group at once (with groups = 1: one plain rectangle). Blocks are
// disjoint and cover C exactly once; blocks of different threads run concurrently, so the
// epilogue may write anywhere its block owns, but must not touch other blocks' rows/columns.
// cols <= nr (48, 16 or 12); rows <= the rows one thread works on (all of M for small problems).
// The epilogue must not throw (it runs inside an OpenMP region).
//
// Example — the LSTM step fused (W_hh packed with groups = 4, so a block holds the gates i, f, g,
// o of the same hidden units u = u0 .. u0+units-1; gt was filled with x W_ihᵀ beforehand):
//     gemm_packed(B, h_prev, H, W, 1.0f, gt, 4 * H, [&](int b0, int rows, int u0, int units) {
//       for (int b = b0; b < b0 + rows; ++b) {
//         float* g = gt + (size_t)b * 4 * H;   // g[u], g[H+u], g[2H+u], g[3H+u] = i, f, g, o
//         ... add biases, sigmoid/tanh over [u0, u0+units) of each gate,
//             c[b,u] = f c_prev[b,u] + i g,  h[b,u] = o tanh(c[b,u]) ...
//       }
//     });
// (h is written to the next step's rows, never to h_prev, which other blocks are still reading.)
using GemmEpilogue = std::function<void(int row0, int rows, int col0, int cols)>;

// C[M, N] = alpha · A[M, K] · op(B) + beta · C. A row-major with leading dimension lda >= K,
// C row-major with ldc >= N (else std::invalid_argument). N and K come from the PackedB.
// Runs on get_threads() OpenMP threads (one for small products); may be called from inside a
// parallel region, and from several threads at once with different C.
void gemm_packed(int M, float alpha, const float* A, int lda, const PackedB& B, float beta, float* C,
                 int ldc, const GemmEpilogue& epilogue = nullptr);
// alpha = 1
inline void gemm_packed(int M, const float* A, int lda, const PackedB& B, float beta, float* C, int ldc,
                        const GemmEpilogue& epilogue = nullptr) {
  gemm_packed(M, 1.0f, A, lda, B, beta, C, ldc, epilogue);
}

// The same with A transposed when transA: C[M, N] = alpha · Aᵀ · op(B) + beta · C, A stored [K, M]
// (lda >= M). The kernel reads A[k, i0 .. i0+MR) for each k in place (8 consecutive floats), as
// the weight gradients of a layer need: dW[G, H] = dpreᵀ[G, T·B] · h[T·B, H].
void gemm_packed_a(bool transA, int M, float alpha, const float* A, int lda, const PackedB& B, float beta, float* C,
                   int ldc, const GemmEpilogue& epilogue = nullptr);

// Tuning/testing knob: the k-block (kc) and row-block (mc) sizes of the loop nest; 0 = default.
// Results do not depend on them (beyond float rounding). Not thread-safe; call before use.
void set_gemm_blocking(int kc, int mc);

}  // namespace memsig
