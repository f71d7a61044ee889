#include "models/charlm.h"

#include <cmath>
#include <nlohmann/json.hpp>

#include "models/bigram_lambda.h"
#include "engine/device.h"

namespace memsig {

static Tensor uniform_tensor(std::vector<int64_t> shape, float bound, Rng& rng) {
  Tensor t(std::move(shape));
  for (auto& v : t.data) v = rng.uniform(-bound, bound);
  return t;
}

CharLM::CharLM(const CharLMConfig& c, Rng& rng) : cfg(c), backend(&default_rnn_backend()) {
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
  // The factorized term's U and V, drawn after every base weight so that a factorized model and a
  // plain one of the same seed start from the same W0; U(-1/sqrt(H), 1/sqrt(H)) like W0.
  for (int l = 0; l < cfg.layers && bases() > 0; ++l) {
    int in = l == 0 ? cfg.embed : H;
    rnn[l].u = param(uniform_tensor({G * H, bases()}, k, rng));
    rnn[l].v = param(uniform_tensor({bases(), in + H}, k, rng));
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
    if (rnn[l].u) {
      out.push_back({"rnn.factor_u_l" + k, rnn[l].u});
      out.push_back({"rnn.factor_v_l" + k, rnn[l].v});
    }
  }
  out.push_back({"proj.weight", proj_w});
  out.push_back({"proj.bias", proj_b});
  return out;
}

std::vector<std::pair<std::string, std::vector<int64_t>>> CharLM::parameter_shapes(const CharLMConfig& c) {
  const int64_t G = gate_count(c.cell), H = c.hidden;
  std::vector<std::pair<std::string, std::vector<int64_t>>> out{{"embed.weight", {c.vocab, c.embed}}};
  for (int l = 0; l < c.layers; ++l) {
    std::string k = std::to_string(l);
    out.push_back({"rnn.weight_ih_l" + k, {G * H, l == 0 ? c.embed : H}});
    out.push_back({"rnn.weight_hh_l" + k, {G * H, H}});
    out.push_back({"rnn.bias_ih_l" + k, {G * H}});
    out.push_back({"rnn.bias_hh_l" + k, {G * H}});
    if (c.factorized == Factorized::Bigram) {
      out.push_back({"rnn.factor_u_l" + k, {G * H, kBigramBases}});
      out.push_back({"rnn.factor_v_l" + k, {kBigramBases, (l == 0 ? c.embed : H) + H}});
    }
  }
  out.push_back({"proj.weight", {c.vocab, H}});
  out.push_back({"proj.bias", {c.vocab}});
  return out;
}

int CharLM::bases() const { return cfg.factorized == Factorized::Bigram ? kBigramBases : 0; }

std::map<std::string, std::string> CharLM::file_metadata() const {
  std::map<std::string, std::string> m{{"format", "memsig-charlm"},
                                       {"cell", cell_name(cfg.cell)},
                                       {"layers", std::to_string(cfg.layers)},
                                       {"hidden", std::to_string(cfg.hidden)},
                                       {"embed", std::to_string(cfg.embed)},
                                       {"symbols", nlohmann::json(symbol_names()).dump()}};
  if (cfg.factorized == Factorized::Bigram) {  // a format of its own: a plain char LM reader must refuse it
    m["format"] = kFactorizedFormat;
    m["factorized"] = "bigram";
    m["bases"] = std::to_string(kBigramBases);
    m["lambda"] = "causal";
    m["lambda_window"] = "segment";
    m["lambda_prior"] = "zero";
  }
  return m;
}

LMForward CharLM::forward(const std::vector<int32_t>& inputs, int T, int B, Rng* dropout_rng,
                          const std::vector<const float*>& h0, const std::vector<const float*>& c0,
                          const std::vector<int32_t>& read_before) const {
  LMForward out;
  Var x = embedding(embed, inputs);  // [T*B, E]
  std::shared_ptr<const LambdaRows> lambda;  // one λ for every layer
  if (bases() > 0) lambda = causal_bigram_lambda(inputs, T, B, read_before, bases_on);
  for (int l = 0; l < cfg.layers; ++l) {
    RnnOptions ro;
    ro.lambda = lambda;
    ro.h0 = h0.empty() ? nullptr : h0[l];
    ro.c0 = c0.empty() ? nullptr : c0[l];
    RnnLayerOut layer = rnn_layer(*backend, cfg.cell, x, rnn[l], T, B, ro);
    out.states.push_back(layer.states);
    x = dropout_rng ? dropout(layer.h, cfg.dropout, *dropout_rng) : layer.h;
  }
  out.logits = linear(x, proj_w, proj_b);
  return out;
}

Var CharLM::loss(const Batch& batch, Rng* dropout_rng, XentStats* stats) const {
  LMForward f = forward(batch.inputs, batch.T, batch.B, dropout_rng);
  return softmax_xent(f.logits, batch.targets, batch.mask, stats);
}

std::string CharLM::describe() const {
  return std::string(cell_name(cfg.cell)) + " " + std::to_string(cfg.layers) + "x" + std::to_string(cfg.hidden) +
         (bases() > 0 ? " factorized-bigram" : "");
}

void CharLM::score(const Batch& batch, TargetScores& out) const {
  NoGrad no_grad;
  LMForward f = forward(batch.inputs, batch.T, batch.B, nullptr);
  const int64_t V = cfg.vocab;
  std::vector<float> logp(V);
  for (size_t r = 0; r < batch.targets.size(); ++r) {
    if (batch.mask[r] == 0.0f) continue;
    const float* z = f.logits->value.ptr() + r * V;
    log_softmax_rows(z, 1, V, logp.data());
    int best = 0;  // argmax of the logits, the first of equals
    for (int j = 1; j < V; ++j) if (z[j] > z[best]) best = j;
    out.target.push_back(batch.targets[r]);
    out.logp.push_back(logp[batch.targets[r]]);
    out.argmax.push_back(best);
  }
}

void check_config(const CharLMConfig& cfg) {
  auto within = [](const char* what, int v, int max) {
    if (v < 1 || v > max)
      throw std::invalid_argument(std::string(what) + " " + std::to_string(v) + " is outside 1.." + std::to_string(max));
  };
  within("layers", cfg.layers, kMaxConfigLayers);
  within("hidden size", cfg.hidden, kMaxConfigHidden);
  within("embedding size", cfg.embed, kMaxConfigEmbed);
}

}  // namespace memsig
