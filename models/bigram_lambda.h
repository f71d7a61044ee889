// bigram_lambda.h — λ of the bigram-factorized char LM: which of the 34 x 34 = 1156 bigram bases
// are switched on at each step, and how strongly.
//
// Causal λ (the one mode implemented): at step t a sequence has read the inputs s_0 = <s>, s_1, ..,
// s_t (it is predicting s_{t+1}). Its bigrams so far are (s_{j-1}, s_j) for 1 <= j <= t, and
//     λ_t,k = (number of those bigrams with index k) / t,     k = 34 s_{j-1} + s_j,
// the normalised bigram counts of what has been read. Only inputs are read, never the target
// s_{t+1}, so λ does not leak what the LM predicts.
//   Window: the current segment so far (under the evaluation protocol every segment starts from
//           zero state; preceding segments are not counted).
//   Prior:  before any bigram is read (t = 0, the step that reads <s>) λ = 0: the base kernel W0.
// A sequence that read symbols before this call (sampling carries its state one symbol at a
// time) passes them as read_before; the window then starts at the first of those.
#pragma once
#include <cstdint>
#include <memory>
#include <vector>

#include "engine/lowrank.h"

namespace memsig {

constexpr int kBigramBases = 34 * 34;
inline int bigram_index(int prev, int cur) { return prev * 34 + cur; }

// λ for time-major inputs [T*B] (rows t*B + b); read_before only with B = 1. bases_on: empty = all,
// else one flag per basis (a basis switched off is dropped from every row).
std::shared_ptr<LambdaRows> causal_bigram_lambda(const std::vector<int32_t>& inputs, int T, int B,
                                                 const std::vector<int32_t>& read_before = {},
                                                 const std::vector<uint8_t>& bases_on = {});

}  // namespace memsig
