// lowrank.cpp — project / expand / contract / back-project of the λ-weighted low-rank term
// (equations in lowrank.h): plain loops over one row's switched-on bases, each reading one
// contiguous row of Ut or V.
#include "engine/lowrank.h"

#include <algorithm>

namespace memsig {

std::vector<float> transposed(const float* in, int rows, int cols) {
  std::vector<float> out((size_t)rows * cols);
  constexpr int kTile = 32;
  for (int r0 = 0; r0 < rows; r0 += kTile)
    for (int c0 = 0; c0 < cols; c0 += kTile)
      for (int r = r0; r < std::min(rows, r0 + kTile); ++r)
        for (int c = c0; c < std::min(cols, c0 + kTile); ++c) out[(size_t)c * rows + r] = in[(size_t)r * cols + c];
  return out;
}

static inline float dot(const float* __restrict a, const float* __restrict b, int n) {
  float s = 0.0f;
#pragma omp simd reduction(+ : s)
  for (int j = 0; j < n; ++j) s += a[j] * b[j];
  return s;
}

static inline void axpy(float alpha, const float* __restrict x, float* __restrict y, int n) {
#pragma omp simd
  for (int j = 0; j < n; ++j) y[j] += alpha * x[j];
}

//   a_k = v_kᵀ z
void lowrank_project(const LambdaRows& lam, int64_t r, const float* V, int ldv, const float* z, int n, float* a) {
  for (int e = lam.row_start[r]; e < lam.row_start[r + 1]; ++e) a[e] = dot(V + (size_t)lam.index[e] * ldv, z, n);
}

//   out += Σ_k λ_k a_k u_k
void lowrank_expand(const LambdaRows& lam, int64_t r, const float* a, const float* a2, const float* Ut, int GH, float* out) {
  for (int e = lam.row_start[r]; e < lam.row_start[r + 1]; ++e)
    axpy(lam.value[e] * (a[e] + (a2 ? a2[e] : 0.0f)), Ut + (size_t)lam.index[e] * GH, out, GH);
}

//   da_k = λ_k u_kᵀ dg
void lowrank_contract(const LambdaRows& lam, int64_t r, const float* Ut, int GH, const float* dg, float* da) {
  for (int e = lam.row_start[r]; e < lam.row_start[r + 1]; ++e)
    da[e] = lam.value[e] * dot(Ut + (size_t)lam.index[e] * GH, dg, GH);
}

//   dz += Σ_k da_k v_k
void lowrank_back_project(const LambdaRows& lam, int64_t r, const float* da, const float* V, int ldv, int n, float* dz) {
  for (int e = lam.row_start[r]; e < lam.row_start[r + 1]; ++e) axpy(da[e], V + (size_t)lam.index[e] * ldv, dz, n);
}

EntriesByBasis group_by_basis(const LambdaRows& lam) {
  EntriesByBasis by;
  by.start.assign(lam.K + 1, 0);
  for (int k : lam.index) ++by.start[k + 1];
  for (int k = 0; k < lam.K; ++k) by.start[k + 1] += by.start[k];
  by.entry.resize(lam.index.size());
  by.row.resize(lam.index.size());
  std::vector<int> fill(by.start.begin(), by.start.end() - 1);
  for (int64_t r = 0; r < lam.rows(); ++r)
    for (int e = lam.row_start[r]; e < lam.row_start[r + 1]; ++e) {
      by.entry[fill[lam.index[e]]++] = e;
      by.row[e] = (int)r;
    }
  return by;
}

//   dU[:, k] += Σ_rows λ_k a_k dg     dV[k, :] += Σ_rows da_k z    (one basis per thread at a time)
void lowrank_basis_sums(const LambdaRows& lam, const EntriesByBasis& by, const float* a, const float* a2,
                        bool lambda_times, const float* D, int ldd, int n, float* out, int ldo) {
#pragma omp parallel for schedule(dynamic, 8) if (lam.nnz() * (int64_t)n >= (1 << 16))
  for (int k = 0; k < lam.K; ++k)
    for (int i = by.start[k]; i < by.start[k + 1]; ++i) {
      int e = by.entry[i];
      float coef = a[e] + (a2 ? a2[e] : 0.0f);
      if (lambda_times) coef *= lam.value[e];
      axpy(coef, D + (size_t)by.row[e] * ldd, out + (size_t)k * ldo, n);
    }
}

}  // namespace memsig
