// las_fusion.h — shallow fusion of a LAS model with a memsig char LM in beam search (Gulcehre et
// al. 2015; Chorowski & Jaitly 2017): each hypothesis y1..yn is scored
//   score(y) = Σ_i ln p_LAS(y_i | y<i, x) + w · Σ_i ln p_LM(y_i | y<i) + β · (n + 1)
// (the sums run over the n graphemes and the final </s>), w the LM weight, β a length bonus. The
// beam keeps the best `width` by score; among finished hypotheses the best by score per symbol
// wins (score / (n + 1)) when β = 0, by the total score when β ≠ 0 (a bonus per symbol then
// weighs length against the LM's preference for short outputs: without it, the LM's </s> ends some
// hypotheses early). w = 0 and β = 0 is plain beam search. Both are chosen on valid (tune_fusion in
// models/train_las.h, `memsig las eval --lm-weight auto --length-bonus auto`).
//
// The LM reads the transcript's symbols from <s> with a zero state, as it was trained (the
// evaluation protocol of models/lm.h); one LM step per beam step for all live hypotheses at once.
// Plain char LMs (LSTM/GRU) only: a bigram-factorized LM's λ needs each sequence's history.
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "models/charlm.h"

namespace memsig {

struct Fusion {
  std::shared_ptr<const CharLM> lm;  // null: no fusion
  float weight = 0;                  // w
  float length_bonus = 0;            // β
};

// Checks that `lm` can serve in fusion with a LAS model (a plain char LM over the same symbols);
// std::invalid_argument naming the problem.
void check_fusion_lm(const CharLM& lm, int las_vocab);

// The LM side of the beam: one state per live hypothesis, and ln p_LM of every next symbol.
class LmBeamState {
 public:
  explicit LmBeamState(const CharLM& lm);  // one hypothesis that has read <s>
  int hyps() const { return K_; }
  const float* logp(int k) const { return logp_.data() + (size_t)k * V_; }  // [V]: ln p(next | hyp k)
  // The next beam: hypothesis j continues parents[j] by symbols[j].
  void advance(const std::vector<int32_t>& parents, const std::vector<int32_t>& symbols);

 private:
  void feed(const std::vector<int32_t>& symbols);  // one step for all K_ hypotheses from h_, c_
  const CharLM& lm_;
  int K_ = 0, V_ = 0, H_ = 0, L_ = 0;
  std::vector<std::vector<float>> h_, c_;  // per layer [K, H]
  std::vector<float> logp_;                // [K, V]
};

// The LM weight w and length bonus β chosen on a data set: the CER (%) of fused beam decoding at
// each pair of the grids, and the pair with the lowest (the first such pair in grid order on ties).
struct FusionTuning {
  std::vector<float> weights, bonuses;
  std::vector<double> cer;  // [weights x bonuses], row-major
  float best_weight = 0, best_bonus = 0;
};
std::vector<float> default_weight_grid();  // 0, 0.1, 0.2, 0.3, 0.4, 0.5
std::vector<float> default_bonus_grid();   // 0, 0.25, 0.5 (larger bonuses let run-on hypotheses win)

}  // namespace memsig
