// bigram_lambda.h — λ of the bigram-factorized char LM: which of the 34 x 34 = 1156 bigram bases
// are switched on at each step, and how strongly.
//
// Two modes (CharLMConfig::lambda; the model file's metadata 'lambda'):
//
// Causal λ (the default): at step t a sequence has read the inputs s_0 = <s>, s_1, ..,
// s_t (it is predicting s_{t+1}). Its bigrams so far are (s_{j-1}, s_j) for 1 <= j <= t, and
//     λ_t,k = (number of those bigrams with index k) / t,     k = 34 s_{j-1} + s_j,
// the normalised bigram counts of what has been read. Only inputs are read, never the target
// s_{t+1}, so λ does not leak what the LM predicts.
//   Window: the current segment so far (under the evaluation protocol every segment starts from
//           zero state; preceding segments are not counted).
//   Prior:  before any bigram is read (t = 0, the step that reads <s>) λ = 0: the base kernel W0.
// A sequence that read symbols before this call (sampling carries its state one symbol at a
// time) passes them as read_before; the window then starts at the first of those.
//
// Domain λ (for adaptation runs): one fixed λ per corpus, the same at every step of every segment
// of that corpus (the first step included):
//     λ_d,k = (number of bigrams k in the inputs of d's training split) / (number of bigrams there),
// a segment's input bigrams being (<s>, c1), (c1, c2), .., (c_{n-1}, c_n): the bigrams a causal
// reader has counted by the segment's last step, summed over the training split. The targets'
// only extra bigram (c_n, </s>) is not counted. It depends on the training text alone, never on
// the segment being read, so it leaks nothing. The model file stores each corpus's counts
// (DomainLambda), keyed by corpus name and training-split digest.
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "corpora/symbols.h"

#include "engine/lowrank.h"

namespace memsig {

constexpr int kBigramBases = 34 * 34;
inline int bigram_index(int prev, int cur) { return prev * 34 + cur; }

// λ for time-major inputs [T*B] (rows t*B + b); read_before only with B = 1. bases_on: empty = all,
// else one flag per basis (a basis switched off is dropped from every row).
std::shared_ptr<LambdaRows> causal_bigram_lambda(const std::vector<int32_t>& inputs, int T, int B,
                                                 const std::vector<int32_t>& read_before = {},
                                                 const std::vector<uint8_t>& bases_on = {});

// One corpus's domain λ: its training split's bigram counts (sparse, ascending basis).
struct DomainLambda {
  std::string corpus;        // the corpus's name ("shakespeare", "ptb", a file's name)
  std::string train_digest;  // segments_digest of the training split it was counted on
  int64_t bigrams = 0;       // total: λ_k = count_k / bigrams
  std::vector<int> index;    // bases with a count, ascending
  std::vector<int64_t> count;
  float lambda(size_t i) const { return (float)((double)count[i] / (double)bigrams); }
};
DomainLambda count_domain_lambda(const std::string& corpus, const std::vector<Segment>& train);

// Domain λ rows [T*B]: row t*B + b is per_sequence[b]'s λ (every step alike); bases_on as above.
std::shared_ptr<LambdaRows> domain_bigram_lambda(const std::vector<const DomainLambda*>& per_sequence, int T,
                                                 const std::vector<uint8_t>& bases_on = {});

}  // namespace memsig
