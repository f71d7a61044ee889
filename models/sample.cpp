#include "models/sample.h"

#include <cmath>
#include <stdexcept>

namespace memsig {

std::string sample_text(const CharLM& model, Rng& rng, const std::string& prime, int max_len, float temperature) {
  if (!(temperature > 0 && std::isfinite(temperature))) throw std::invalid_argument("the sampling temperature must be a number above 0");
  if (max_len < 1) throw std::invalid_argument("the sample length must be at least 1");
  NoGrad no_grad;
  const int L = model.cfg.layers, H = model.cfg.hidden, V = model.cfg.vocab;
  std::vector<std::vector<float>> h(L, std::vector<float>(H, 0.0f)), c(L, std::vector<float>(H, 0.0f));
  Segment text = normalize(prime);
  std::vector<int32_t> feed{kBos};
  feed.insert(feed.end(), text.begin(), text.end());
  std::vector<float> logp(V);
  std::vector<int32_t> read;  // what the state has read so far (a factorized model's λ counts it)
  for (int produced = 0; produced < max_len; ++produced) {
    std::vector<const float*> h0, c0;
    for (int l = 0; l < L; ++l) { h0.push_back(h[l].data()); c0.push_back(c[l].data()); }
    int T = (int)feed.size();
    LMForward f = model.forward(feed, T, 1, nullptr, h0, c0, read);
    read.insert(read.end(), feed.begin(), feed.end());
    for (int l = 0; l < L; ++l) {
      const RnnStates& st = *f.states[l];
      std::copy(st.h_at(T - 1), st.h_at(T - 1) + H, h[l].begin());
      if (has_cell_state(model.cfg.cell)) std::copy(st.c_at(T - 1), st.c_at(T - 1) + H, c[l].begin());
    }
    std::vector<float> z(f.logits->value.ptr() + (size_t)(T - 1) * V, f.logits->value.ptr() + (size_t)T * V);
    for (auto& v : z) v /= std::max(temperature, 1e-3f);
    z[kBos] = -1e30f;  // never generate <s>
    log_softmax_rows(z.data(), 1, V, logp.data());
    float u = rng.uniform(), acc = 0.0f;
    int next = V - 1;
    for (int j = 0; j < V; ++j) {
      acc += std::exp(logp[j]);
      if (u < acc) { next = j; break; }
    }
    if (next == kEos) break;
    text.push_back((uint8_t)next);
    feed.assign(1, next);
  }
  return to_text(text);
}

}  // namespace memsig
