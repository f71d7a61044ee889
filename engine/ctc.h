// ctc.h — connectionist temporal classification loss (Graves et al. 2006) as one op, in log space.
//
// logits z [T*B, V] time-major (row t*B + b), lp = log_softmax(z) per row; sequence b has T_b =
// lengths[b] frames and label sequence y_b (no blanks). The extended labels l' = (blank, y1, blank,
// y2, ..., yU, blank), S = 2U + 1. In log space (lse = log-sum-exp):
//   alpha_0(0) = lp_0(blank), alpha_0(1) = lp_0(y1), alpha_0(s > 1) = -inf
//   alpha_t(s) = lp_t(l'_s) + lse(alpha_{t-1}(s), alpha_{t-1}(s-1), [alpha_{t-1}(s-2) if l'_s != blank, l'_s != l'_{s-2}])
//   beta_{T-1}(S-1) = beta_{T-1}(S-2) = 0, else -inf            (beta excludes frame t's emission)
//   beta_t(s) = lse(lp_{t+1}(l'_s) + beta_{t+1}(s), lp_{t+1}(l'_{s+1}) + beta_{t+1}(s+1),
//                   [lp_{t+1}(l'_{s+2}) + beta_{t+1}(s+2) if the skip is allowed as above])
//   log p(y|x) = lse(alpha_{T-1}(S-1), alpha_{T-1}(S-2))
//   gamma_t(s) = exp(alpha_t(s) + beta_t(s) - log p)               (posterior of being at s at t)
// Loss = scale * sum_b -log p(y_b|x_b);  dL/dz_t(v) = scale (softmax_t(v) - sum_{s: l'_s = v} gamma_t(s)).
// A sequence whose labels cannot fit its frames (T_b < U + repeats) has p = 0: it adds 0 to the loss
// and no gradient, and is counted (PyTorch's zero_infinity=True).
#pragma once
#include <cstdint>
#include <vector>

#include "engine/autograd.h"

namespace memsig {

struct CtcStats {
  double nats = 0;   // sum of -log p over the sequences that fit
  int impossible = 0;  // sequences that could not fit their frames
};

Var ctc_loss(const Var& logits, int T, int B, const std::vector<int>& lengths,
             const std::vector<std::vector<int32_t>>& labels, int blank, float scale = 1.0f, CtcStats* stats = nullptr);

}  // namespace memsig

namespace memsig {

// CTC forced alignment: the single best path (Viterbi) through the same topology as the loss above,
// over one sequence's log-posteriors lp [T, V] (row t = frame t; any normalisation: the path score is
// a sum of lp entries). With l' = (blank, y1, blank, ..., yU, blank), S = 2U + 1:
//   delta_0(0) = lp_0(blank), delta_0(1) = lp_0(y1), delta_0(s > 1) = -inf
//   delta_t(s) = lp_t(l'_s) + max(delta_{t-1}(s), delta_{t-1}(s-1), [delta_{t-1}(s-2) if skip allowed])
//   score = max(delta_{T-1}(S-1), delta_{T-1}(S-2)); the path is read back through the argmaxes.
// (the loss's recursion with lse replaced by max). Label u owns the frames where the path sits on
// state 2u+1: a non-empty run [first[u], last[u]], the runs in order and disjoint (blank frames belong
// to no label). Ties go to the earlier state (stay before advance), so the result is deterministic.
// When the labels cannot fit (T < U + number of adjacent repeats), possible = false and the spans are empty.
struct CtcAlignment {
  bool possible = false;
  double score = 0;                 // log-score of the best path
  std::vector<int> first, last;     // per label, inclusive frame range
};
CtcAlignment ctc_align(const float* lp, int T, int V, const std::vector<int32_t>& labels, int blank);

}  // namespace memsig
