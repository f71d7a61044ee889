// lowrank.h — the λ-weighted low-rank term of a factorized recurrent kernel, over sparse λ.
//
// A factorized kernel is W(λ) = W0 + Σ_k λ_k u_k v_kᵀ (Samarakoon & Sim's factorized hidden
// layers); W(λ) is never formed. With U = [u_1 .. u_K] [G*H, K] and V = [v_1 .. v_K]ᵀ [K, n]
// acting on some input z (x, or h_{t-1}), the term for one row (one step of one sequence) is
//     a_k = v_kᵀ z            (project)        for the k with λ_k != 0 only
//     out += Σ_k λ_k a_k u_k  (expand)
// and its backward, given dL/dout = dg:
//     da_k = λ_k u_kᵀ dg      (contract; λ folded in, so da_k = dL/da_k)
//     dz  += Σ_k da_k v_k     (back-project)
//     dU[:, k] += Σ_rows λ_k a_k dg     dV[k, :] += Σ_rows da_k z     (per basis, over all rows)
// λ is data, not a parameter: sparse rows (CSR) over the T*B rows of a sequence batch, so the
// work per row is proportional to the number of bases switched on there, not to K.
// U is used transposed (Ut [K, G*H], one contiguous row per basis) so that expand and contract
// read u_k contiguously; the caller makes Ut once per layer call.
#pragma once
#include <cstdint>
#include <vector>

namespace memsig {

// λ for rows r = t*B + b: entries row_start[r] .. row_start[r+1]-1, basis `index` (ascending
// within a row, each in 0..K-1) with weight `value`. Rows without entries have λ = 0.
struct LambdaRows {
  int K = 0;
  std::vector<int> row_start{0};  // [rows + 1]
  std::vector<int> index;
  std::vector<float> value;
  int64_t rows() const { return (int64_t)row_start.size() - 1; }
  int64_t nnz() const { return (int64_t)index.size(); }
};

// out[r][c] = in[c][r] for in [rows, cols].
std::vector<float> transposed(const float* in, int rows, int cols);

// a[e] = V[index[e]] · z for the entries e of row r; V rows have stride ldv, z has n elements.
void lowrank_project(const LambdaRows& lam, int64_t r, const float* V, int ldv, const float* z, int n, float* a);
// out[GH] += Σ_e λ_e (a[e] + a2[e]) Ut[index[e]]  (a2 may be null).
void lowrank_expand(const LambdaRows& lam, int64_t r, const float* a, const float* a2, const float* Ut, int GH, float* out);
// da[e] = λ_e Ut[index[e]] · dg.
void lowrank_contract(const LambdaRows& lam, int64_t r, const float* Ut, int GH, const float* dg, float* da);
// dz[n] += Σ_e da[e] V[index[e]].
void lowrank_back_project(const LambdaRows& lam, int64_t r, const float* da, const float* V, int ldv, int n, float* dz);

// The entries grouped by basis (for per-basis sums without write conflicts between threads).
struct EntriesByBasis {
  std::vector<int> start;  // [K + 1]
  std::vector<int> entry;  // entry ids, grouped by basis
  std::vector<int> row;    // row of each entry id
};
EntriesByBasis group_by_basis(const LambdaRows& lam);
// out[k*ldo + j] += Σ_{e of basis k} coef_e(e) * D[row(e)*ldd + j], j < n.
// coef_e = λ_e (a[e] + a2[e]) when lambda_times is set (a2 may be null), else a[e].
void lowrank_basis_sums(const LambdaRows& lam, const EntriesByBasis& by, const float* a, const float* a2,
                        bool lambda_times, const float* D, int ldd, int n, float* out, int ldo);

}  // namespace memsig
