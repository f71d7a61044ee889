#include "models/charlm.h"

#include <cmath>

namespace memsig {

static Tensor uniform_tensor(std::vector<int64_t> shape, float bound, Rng& rng) {
  Tensor t(std::move(shape));
  for (auto& v : t.data) v = rng.uniform(-bound, bound);
  return t;
}

CharLM::CharLM(const CharLMConfig& c, Rng& rng) : cfg(c), backend(&cpu_backend()) {
  Tensor e({cfg.vocab, cfg.embed});
  for (auto& v : e.data) v = rng.normal();
  embed = param(std::move(e));
  int G = gate_count(cfg.cell), H = cfg.hidden;
  float k = 1.0f / std::sqrt((float)H);
  for (int l = 0; l < cfg.layers; ++l) {
    int in = l == 0 ? cfg.embed : H;
    rnn.push_back({param(uniform_tensor({G * H, in}, k, rng)), param(uniform_tensor({G * H, H}, k, rng)),
                   param(uniform_tensor({G * H}, k, rng)), param(uniform_tensor({G * H}, k, rng))});
  }
  proj_w = param(uniform_tensor({cfg.vocab, H}, k, rng));
  proj_b = param(uniform_tensor({cfg.vocab}, k, rng));
}

std::vector<std::pair<std::string, Var>> CharLM::named_parameters() const {
  std::vector<std::pair<std::string, Var>> out{{"embed.weight", embed}};
  for (int l = 0; l < cfg.layers; ++l) {
    std::string k = std::to_string(l);
    out.push_back({"rnn.weight_ih_l" + k, rnn[l].w_ih});
    out.push_back({"rnn.weight_hh_l" + k, rnn[l].w_hh});
    out.push_back({"rnn.bias_ih_l" + k, rnn[l].b_ih});
    out.push_back({"rnn.bias_hh_l" + k, rnn[l].b_hh});
  }
  out.push_back({"proj.weight", proj_w});
  out.push_back({"proj.bias", proj_b});
  return out;
}

std::vector<Var> CharLM::parameters() const {
  std::vector<Var> ps;
  for (auto& [name, p] : named_parameters()) ps.push_back(p);
  return ps;
}

int64_t CharLM::parameter_count() const {
  int64_t n = 0;
  for (auto& p : parameters()) n += p->value.numel();
  return n;
}

LMForward CharLM::forward(const std::vector<int32_t>& inputs, int T, int B, Rng* dropout_rng,
                          const std::vector<const float*>& h0, const std::vector<const float*>& c0) const {
  LMForward out;
  Var x = embedding(embed, inputs);  // [T*B, E]
  for (int l = 0; l < cfg.layers; ++l) {
    RnnLayerOut layer = rnn_layer(*backend, cfg.cell, x, rnn[l], T, B, h0.empty() ? nullptr : h0[l],
                                  c0.empty() ? nullptr : c0[l]);
    out.tapes.push_back(layer.tape);
    x = dropout_rng ? dropout(layer.h, cfg.dropout, *dropout_rng) : layer.h;
  }
  out.logits = linear(x, proj_w, proj_b);
  return out;
}

Var CharLM::loss(const Batch& batch, Rng* dropout_rng, XentStats* stats) const {
  LMForward f = forward(batch.inputs, batch.T, batch.B, dropout_rng);
  return softmax_xent(f.logits, batch.targets, batch.mask, stats);
}

EvalResult evaluate(const CharLM& model, const std::vector<Segment>& segs, int batch_size) {
  NoGrad no_grad;
  XentStats stats;
  for (auto& idx : length_buckets(segs, batch_size)) model.loss(make_batch(segs, idx), nullptr, &stats);
  EvalResult r;
  r.targets = (int64_t)stats.count;
  r.bpc = stats.count > 0 ? stats.nats / stats.count / std::log(2.0) : 0.0;
  r.perplexity = std::pow(2.0, r.bpc);
  return r;
}

}  // namespace memsig
