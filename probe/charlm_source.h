// charlm_source.h — the char LM as a state source: entry "layer l" is layer l's state after reading
// x_t, at position t: the LSTM's cell c (default), its output h, or both ("ch", [c, h]); the GRU's h.
#pragma once
#include <memory>

#include "models/charlm.h"
#include "probe/state_source.h"

namespace memsig {

std::string default_state_kind(Cell cell);  // the cell table's probe state

class CharLMSource : public StateSource {
 public:
  // kind: "c" | "h" | "ch", or empty for the cell's default; std::invalid_argument when the cell lacks it.
  CharLMSource(std::shared_ptr<const CharLM> model, const std::string& kind = "");
  std::string describe() const override { return model_->describe(); }
  std::string state_kind() const override { return kind_; }
  std::vector<StateEntry> entries() const override;
  std::unique_ptr<StateBatch> run(const Batch& batch, const std::vector<int>& chosen) const override;
  std::unique_ptr<StateSource> untrained_control(uint64_t seed) const override;
  const LanguageModel* language_model() const override { return model_.get(); }
  std::string identity() const override;
  const CharLM& model() const { return *model_; }

 private:
  std::shared_ptr<const CharLM> model_;
  std::string kind_;
};

}  // namespace memsig
