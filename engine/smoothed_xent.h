// smoothed_xent.h — softmax cross-entropy against label-smoothed targets (Szegedy et al. 2016).
// Rows of logits z [n, V], targets t_r, 0/1 mask m_r, smoothing ε: the target distribution is
//   q_r(v) = 1 - ε for v = t_r,  ε / (V - 1) otherwise
//   L = (1/M) sum_r m_r sum_v -q_r(v) log p_r(v),   p_r = softmax(z_r),  M = sum_r m_r
//   dz_r = dL (m_r / M) (p_r - q_r)
// With ε = 0 it is softmax_xent (engine/ops.h). stats receive the unsmoothed -log p_r(t_r) and the
// count, so the reported bits per target mean the same with or without smoothing.
#pragma once
#include <vector>

#include "engine/ops.h"

namespace memsig {

Var smoothed_xent(const Var& logits, const std::vector<int32_t>& targets, const std::vector<float>& mask, float eps,
                  XentStats* stats = nullptr);

}  // namespace memsig
