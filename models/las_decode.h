// las_decode.h — decoding a LAS model (models/las.h) and scoring the result.
//   greedy: every step takes the most likely symbol, the whole batch at once, until each utterance
//           has emitted </s> (or max_len symbols);
//   beam:   one utterance at a time, the live hypotheses extended by every symbol each step, the best
//           `width` extensions kept; one ending in </s> is finished and leaves the beam (</s> only
//           where ln p(</s>) is within 3 nats of the step's best symbol: an EOS threshold); the search
//           stops when none is live or at the length limit (width 1 is greedy decoding),
//           and the best finished by log-probability per symbol (</s> counted) wins; with
//           shallow fusion (models/las_fusion.h), by the fused score instead.
// The maximum output length is the listener's (reduced) frame count plus 10: a grapheme needs at
// least one reduced frame at any speaking rate this model can read.
// CER = symbol edit distance / reference symbols, WER = word edit distance / reference words
// (words split at spaces); totals sum the distances and reference lengths over utterances.
#pragma once
#include <string>
#include <vector>

#include "corpora/symbols.h"
#include "models/las.h"
#include "models/las_fusion.h"

namespace memsig {

struct Decoded {
  Segment text;                              // without <s> and </s>
  double logprob = 0;
  std::vector<std::vector<float>> attention;  // per output step, over the reduced frames (greedy, when asked)
};

std::vector<Decoded> greedy_decode(const LAS& model, const LasInput& in, bool keep_attention = false);
Decoded beam_decode(const LAS& model, const LasInput& in_one, int width, const Fusion* fusion = nullptr);

int edit_distance(const std::vector<int32_t>& a, const std::vector<int32_t>& b);
std::vector<std::vector<int32_t>> words_of(const Segment& s);  // split at spaces (symbol id of ' ')

struct ErrorCounts {
  int64_t char_errors = 0, chars = 0, word_errors = 0, words = 0;
  void add(const Segment& ref, const Segment& hyp);
  double cer() const { return chars ? 100.0 * char_errors / chars : 0; }
  double wer() const { return words ? 100.0 * word_errors / words : 0; }
};

}  // namespace memsig
