#include "probe/ngram_source.h"

#include <cstdio>
#include <stdexcept>

namespace memsig {

NgramSource::NgramSource(std::shared_ptr<const NgramLM> lm) : lm_(std::move(lm)) {
  if (lm_->order() < 2) throw std::invalid_argument("a unigram model has no context to probe");
}

std::vector<StateEntry> NgramSource::entries() const {
  return {{std::to_string(lm_->order()) + "-gram context", (lm_->order() - 1) * kNumSymbols}};
}

namespace {

class NgramStates : public StateBatch {
 public:
  const NgramLM* lm = nullptr;
  std::vector<int32_t> state;  // per row: the automaton state after reading the row's input
  void copy_row(size_t, size_t r, float* dst) const override {
    const int width = (lm->order() - 1) * kNumSymbols;
    std::fill(dst, dst + width, 0.0f);
    NgramContext c = lm->context(state[r]);
    for (int j = 0; j < c.length; ++j)  // j steps back: the context's symbols, newest last
      dst[(size_t)j * kNumSymbols + c.symbols[c.length - 1 - j]] = 1.0f;
  }
};

}  // namespace

std::unique_ptr<StateBatch> NgramSource::run(const Batch& batch, const std::vector<int>& chosen) const {
  for (int e : chosen)
    if (e != 0) throw std::invalid_argument("an n-gram model has one entry, its context");
  auto out = std::make_unique<NgramStates>();
  out->lm = lm_.get();
  for (int b = 0; b < batch.B; ++b) {
    int32_t s = lm_->start_state();  // after reading <s>
    for (int t = 0; t < batch.lengths[b]; ++t) {
      if (t > 0) s = lm_->next_state(s, batch.inputs[(size_t)t * batch.B + b]);
      out->sequence.push_back(b);
      out->position.push_back(t);
      out->state.push_back(s);
    }
  }
  return out;
}

std::string NgramSource::identity() const {
  uint64_t h = 1469598103934665603ull;  // FNV-1a over every stored n-gram and its probabilities
  auto mix = [&](uint64_t v) {
    for (int i = 0; i < 8; ++i) h = (h ^ ((v >> (8 * i)) & 0xff)) * 1099511628211ull;
  };
  for (int k = 1; k <= lm_->order(); ++k)
    for (auto& e : lm_->ngrams(k)) {
      mix(e.key);
      mix(__builtin_bit_cast(uint64_t, e.log_prob));
      mix(__builtin_bit_cast(uint64_t, e.log_backoff));
    }
  char digest[20];
  std::snprintf(digest, sizeof digest, "%016llx", (unsigned long long)h);
  return "ngram " + describe() + " " + digest;
}

}  // namespace memsig
