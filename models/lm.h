// lm.h — what every language model offers (the char LMs, the n-gram): scores of the next symbol
// under the evaluation protocol (zero state per segment, inputs <s> c1..cn, targets c1..cn </s>),
// and the measures built on them alone: bits per character and forward prediction accuracy.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "corpora/batches.h"
#include "corpora/corpus.h"

namespace memsig {

// One batch's scores, one entry per real target (mask 1), in the batch's row order (t*B + b).
struct TargetScores {
  std::vector<int32_t> target;  // the symbol that came
  std::vector<float> logp;      // ln p(target | history)
  std::vector<int32_t> argmax;  // the model's most likely next symbol
  void clear() { target.clear(); logp.clear(); argmax.clear(); }
};

class LanguageModel {
 public:
  virtual ~LanguageModel() = default;
  virtual std::string describe() const = 0;  // "gru 1x320", "5-gram"
  virtual void score(const Batch& batch, TargetScores& out) const = 0;
};

// Bits per character = total -log2 p over all targets / number of targets; perplexity = 2^bpc.
struct EvalResult {
  double bpc = 0, perplexity = 0;
  int64_t targets = 0;
};
EvalResult evaluate(const LanguageModel& lm, const std::vector<Segment>& segs, int batch_size = 64);
// The same over a corpus's split, each batch naming the corpus (a mixture's part) of each of its
// sequences (Batch::domains): what a domain-λ model needs to read a mixture.
EvalResult evaluate_corpus(const LanguageModel& lm, const Corpus& corpus, const std::string& split, int batch_size = 64);

// The LM's own next-symbol prediction: per target symbol, how often argmax p = target.
struct ForwardAccuracy {
  std::vector<double> recall;   // [34], NaN where the symbol never occurs as a target
  std::vector<int64_t> count;   // [34]
  double accuracy = 0;
};
ForwardAccuracy forward_accuracy(const LanguageModel& lm, const std::vector<Segment>& segs, int batch_size = 64);

}  // namespace memsig
