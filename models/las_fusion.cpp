#include "models/las_fusion.h"

#include <algorithm>
#include <stdexcept>

namespace memsig {

void check_fusion_lm(const CharLM& lm, int las_vocab) {
  if (lm.cfg.factorized != Factorized::None)
    throw std::invalid_argument("shallow fusion needs a plain char LM (LSTM/GRU); this one is bigram-factorized");
  if (lm.cfg.vocab != las_vocab)
    throw std::invalid_argument("the LM has " + std::to_string(lm.cfg.vocab) + " symbols and the LAS model " +
                                std::to_string(las_vocab) + ": they must share the symbol table");
}

LmBeamState::LmBeamState(const CharLM& lm)
    : lm_(lm), K_(1), V_(lm.cfg.vocab), H_(lm.cfg.hidden), L_(lm.cfg.layers) {
  h_.assign(L_, std::vector<float>(H_, 0.0f));
  c_.assign(L_, std::vector<float>(H_, 0.0f));
  feed({kBos});
}

// One LM step: the symbols read from the states h_, c_ (per layer [K, H]); the new states and the
// log-softmax of the logits, ln p(next | hypothesis), replace them.
void LmBeamState::feed(const std::vector<int32_t>& symbols) {
  NoGrad no_grad;
  K_ = (int)symbols.size();
  std::vector<const float*> h0, c0;
  for (int l = 0; l < L_; ++l) {
    h0.push_back(h_[l].data());
    c0.push_back(c_[l].data());
  }
  LMForward f = lm_.forward(symbols, 1, K_, nullptr, h0, has_cell_state(lm_.cfg.cell) ? c0 : std::vector<const float*>{});
  for (int l = 0; l < L_; ++l) {
    const RnnStates& st = *f.states[l];
    h_[l].assign(st.h_at(0), st.h_at(0) + (size_t)K_ * H_);
    if (has_cell_state(lm_.cfg.cell)) c_[l].assign(st.c_at(0), st.c_at(0) + (size_t)K_ * H_);
  }
  logp_.resize((size_t)K_ * V_);
  log_softmax_rows(f.logits->value.ptr(), K_, V_, logp_.data());
}

void LmBeamState::advance(const std::vector<int32_t>& parents, const std::vector<int32_t>& symbols) {
  if (parents.size() != symbols.size() || parents.empty())
    throw std::invalid_argument("LmBeamState::advance: one parent per symbol, at least one");
  for (int l = 0; l < L_; ++l) {
    std::vector<float> h((size_t)parents.size() * H_), c(has_cell_state(lm_.cfg.cell) ? h.size() : 0);
    for (size_t j = 0; j < parents.size(); ++j) {
      if (parents[j] < 0 || parents[j] >= K_) throw std::invalid_argument("LmBeamState::advance: no such parent");
      std::copy_n(h_[l].data() + (size_t)parents[j] * H_, H_, h.data() + j * H_);
      if (!c.empty()) std::copy_n(c_[l].data() + (size_t)parents[j] * H_, H_, c.data() + j * H_);
    }
    h_[l] = std::move(h);
    c_[l] = c.empty() ? std::vector<float>((size_t)parents.size() * H_, 0.0f) : std::move(c);
  }
  feed(symbols);
}

std::vector<float> default_weight_grid() { return {0.0f, 0.1f, 0.2f, 0.3f, 0.4f, 0.5f}; }
std::vector<float> default_bonus_grid() { return {0.0f, 0.25f, 0.5f}; }

}  // namespace memsig
