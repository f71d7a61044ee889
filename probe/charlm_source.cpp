#include "probe/charlm_source.h"

#include <cstdio>
#include <stdexcept>

namespace memsig {

std::string default_state_kind(Cell cell) { return cell_spec(cell).probe_state; }

CharLMSource::CharLMSource(std::shared_ptr<const CharLM> model, const std::string& kind)
    : model_(std::move(model)), kind_(kind.empty() ? default_state_kind(model_->cfg.cell) : kind) {
  if (kind_ != "h" && kind_ != "c" && kind_ != "ch")
    throw std::invalid_argument("unknown state kind '" + kind_ + "' (c, h or ch)");
  if (kind_ != "h" && !has_cell_state(model_->cfg.cell))
    throw std::invalid_argument(std::string("a ") + cell_name(model_->cfg.cell) + " has no cell state: use --state h");
}

std::vector<StateEntry> CharLMSource::entries() const {
  std::vector<StateEntry> out;
  int w = kind_ == "ch" ? 2 * model_->cfg.hidden : model_->cfg.hidden;
  for (int l = 0; l < model_->cfg.layers; ++l) out.push_back({"layer " + std::to_string(l + 1), w});
  return out;
}

namespace {

// Row r of the batch = sequence b, step t; its state lives in the layer's RnnStates.
class CharLMStates : public StateBatch {
 public:
  std::vector<std::shared_ptr<const RnnStates>> layers;  // per chosen entry
  std::string kind;
  void copy_row(size_t e, size_t r, float* dst) const override {
    const RnnStates& st = *layers[e];
    size_t off = (size_t)sequence[r] * st.H;
    int t = position[r];
    if (kind == "c" || kind == "ch") { std::copy_n(st.c_at(t) + off, st.H, dst); dst += st.H; }
    if (kind == "h" || kind == "ch") std::copy_n(st.h_at(t) + off, st.H, dst);
  }
};

}  // namespace

std::unique_ptr<StateBatch> CharLMSource::run(const Batch& batch, const std::vector<int>& chosen) const {
  NoGrad no_grad;
  LMForward f = model_->forward(batch.inputs, batch.T, batch.B, nullptr, {}, {}, {}, batch.domains);
  auto out = std::make_unique<CharLMStates>();
  out->kind = kind_;
  for (int e : chosen) {
    if (e < 0 || e >= model_->cfg.layers) throw std::invalid_argument("layer " + std::to_string(e + 1) + " does not exist");
    out->layers.push_back(f.states[e]);
  }
  for (int b = 0; b < batch.B; ++b)
    for (int t = 0; t < batch.lengths[b]; ++t) {  // inputs <s> c1..cn: positions 0..n
      out->sequence.push_back(b);
      out->position.push_back(t);
    }
  return out;
}

std::unique_ptr<StateSource> CharLMSource::untrained_control(uint64_t seed) const {
  Rng rng(seed);
  auto control = std::make_shared<CharLM>(model_->cfg, rng);
  control->domains = model_->domains;  // a domain-λ model's control reads the same λ
  control->domain = model_->domain;
  return std::make_unique<CharLMSource>(control, kind_);
}

std::string CharLMSource::identity() const {
  return "charlm " + describe() + " embed " + std::to_string(model_->cfg.embed) + " weights " + weights_digest(*model_);
}

}  // namespace memsig
