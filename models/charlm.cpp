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
    if (cfg.lambda == LambdaMode::Causal) {
      m["lambda"] = "causal";
      m["lambda_window"] = "segment";
      m["lambda_prior"] = "zero";
    } else {  // the counts of each training corpus, so that eval/sample/states/signature use the same λ
      m["lambda"] = "domain";
      m["lambda_window"] = "training split";
      nlohmann::json ds = nlohmann::json::array();
      for (auto& d : domains)
        ds.push_back({{"corpus", d.corpus}, {"train_digest", d.train_digest}, {"bigrams", d.bigrams},
                      {"index", d.index}, {"count", d.count}});
      m["lambda_domains"] = ds.dump();
    }
  }
  return m;
}

LMForward CharLM::forward(const std::vector<int32_t>& inputs, int T, int B, Rng* dropout_rng,
                          const std::vector<const float*>& h0, const std::vector<const float*>& c0,
                          const std::vector<int32_t>& read_before,
                          const std::vector<std::string>& sequence_domains) const {
  LMForward out;
  Var x = embedding(embed, inputs);  // [T*B, E]
  std::shared_ptr<const LambdaRows> lambda = lambda_rows(inputs, T, B, read_before, sequence_domains);  // every layer's
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

static std::string corpus_list(const std::vector<DomainLambda>& ds) {
  std::string s;
  for (auto& d : ds) s += (s.empty() ? "" : ", ") + d.corpus;
  return s.empty() ? "none" : s;
}

static std::invalid_argument no_lambda_for(const std::vector<DomainLambda>& ds, const std::string& corpus) {
  return std::invalid_argument("this domain-lambda model has lambda only for the corpora it was trained on (" + corpus_list(ds) +
                               "), none for '" + corpus + "'" +
                               (corpus.find('+') != std::string::npos ? " (a mixture: give its corpora one at a time)" : ""));
}

void CharLM::add_domain(DomainLambda d) {
  for (auto& have : domains)
    if (have.corpus == d.corpus) {
      have = std::move(d);
      return;
    }
  domains.push_back(std::move(d));
}

void CharLM::select_domain(const std::string& corpus, const std::string& train_digest) {
  if (!domain_lambda()) return;
  if (corpus.empty())
    throw std::invalid_argument("this domain-lambda model needs the corpus it reads (one of " + corpus_list(domains) + "): give --corpus");
  for (auto& d : domains)
    if (d.corpus == corpus) {
      if (!train_digest.empty() && train_digest != d.train_digest)
        throw std::invalid_argument("this domain-lambda model's lambda for corpus '" + corpus + "' was counted on another text (training split digest " +
                                    d.train_digest + ", this corpus's " + train_digest + ")");
      domain = corpus;
      return;
    }
  throw no_lambda_for(domains, corpus);
}

void CharLM::select_corpus(const Corpus& c) {
  if (!domain_lambda()) return;
  auto parts = c.parts_or_self();
  for (size_t p = 0; p < parts.size(); ++p) select_domain(parts[p].name, segments_digest(c.part_split((int)p, "train")));
  domain = c.name;
}

std::shared_ptr<const LambdaRows> CharLM::lambda_rows(const std::vector<int32_t>& inputs, int T, int B,
                                                      const std::vector<int32_t>& read_before,
                                                      const std::vector<std::string>& sequence_domains) const {
  if (bases() == 0) return nullptr;
  if (cfg.lambda == LambdaMode::Causal) return causal_bigram_lambda(inputs, T, B, read_before, bases_on);
  if (!sequence_domains.empty() && (int)sequence_domains.size() != B)
    throw std::invalid_argument("domain lambda: " + std::to_string(sequence_domains.size()) + " sequence corpora for " + std::to_string(B) + " sequences");
  std::vector<const DomainLambda*> per(B, nullptr);
  for (int b = 0; b < B; ++b) {
    const std::string& name = sequence_domains.empty() ? domain : sequence_domains[b];
    if (name.empty())
      throw std::invalid_argument("this domain-lambda model needs the corpus it reads (one of " + corpus_list(domains) +
                                  "): give --corpus");
    for (auto& d : domains)
      if (d.corpus == name) per[b] = &d;
    if (!per[b]) throw no_lambda_for(domains, name);
  }
  return domain_bigram_lambda(per, T, bases_on);
}

Var CharLM::loss(const Batch& batch, Rng* dropout_rng, XentStats* stats) const {
  LMForward f = forward(batch.inputs, batch.T, batch.B, dropout_rng, {}, {}, {}, batch.domains);
  return softmax_xent(f.logits, batch.targets, batch.mask, stats);
}

std::string CharLM::describe() const {
  return std::string(cell_name(cfg.cell)) + " " + std::to_string(cfg.layers) + "x" + std::to_string(cfg.hidden) +
         (bases() > 0 ? " factorized-bigram" : "") + (domain_lambda() ? " (domain lambda)" : "");
}

void CharLM::score(const Batch& batch, TargetScores& out) const {
  NoGrad no_grad;
  LMForward f = forward(batch.inputs, batch.T, batch.B, nullptr, {}, {}, {}, batch.domains);
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
