// ngram_source.h — an n-gram LM as a state source. Its state after reading x_t is the context it
// will predict x_{t+1} from: the longest stored suffix of the history, at most N-1 symbols (what
// KenLM's State keeps). Entry "context" encodes it one-hot per position back: slot j (j = 0 for the
// current input x_t, 1 for x_{t-1}, ...) holds the symbol j steps back, all zeros where the context
// is shorter. Its signature is exact memory for lags the context reaches (d <= N-2 when the full
// context is stored) and cut off where the model truncates contexts of rare histories.
#pragma once
#include <memory>

#include "models/ngram.h"
#include "probe/state_source.h"

namespace memsig {

class NgramSource : public StateSource {
 public:
  explicit NgramSource(std::shared_ptr<const NgramLM> lm);
  std::string describe() const override { return lm_->describe(); }
  std::string state_kind() const override { return "context"; }
  std::vector<StateEntry> entries() const override;
  std::unique_ptr<StateBatch> run(const Batch& batch, const std::vector<int>& chosen) const override;
  std::unique_ptr<StateSource> untrained_control(uint64_t) const override { return nullptr; }
  const LanguageModel* language_model() const override { return lm_.get(); }
  std::string identity() const override;

 private:
  std::shared_ptr<const NgramLM> lm_;
};

}  // namespace memsig
