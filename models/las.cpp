#include "models/las.h"

#include <algorithm>
#include <cmath>
#include <nlohmann/json.hpp>

#include "engine/bidirectional.h"
#include "engine/files.h"
#include "engine/lstm_step.h"
#include "engine/safetensors.h"
#include "engine/seq_ops.h"
#include "engine/smoothed_xent.h"
#include "models/any_model.h"
#include "models/model_file.h"

namespace memsig {

namespace {
// LAS as a model kind: `memsig signature --model LAS` loads it like any other model (the probe's
// state source and data reader are in probe/sources.cpp).
[[maybe_unused]] const bool kLasKindRegistered = [] {
  register_model_kind({kLasFormat, "LAS speech recognizer", [](const std::string& path) {
                         std::shared_ptr<const LAS> m = load_las(path);
                         return AnyModel{kLasFormat, nullptr, m};
                       }});
  return true;
}();
}  // namespace

namespace {
Tensor uniform_tensor(std::vector<int64_t> shape, float bound, Rng& rng) {
  Tensor t(std::move(shape));
  for (auto& v : t.data) v = rng.uniform(-bound, bound);
  return t;
}
RnnParams lstm_params(int in, int H, Rng& rng) {
  float k = 1.0f / std::sqrt((float)H);
  return {param(uniform_tensor({4 * H, in}, k, rng)), param(uniform_tensor({4 * H, H}, k, rng)),
          param(uniform_tensor({4 * H}, k, rng)), param(uniform_tensor({4 * H}, k, rng))};
}
int listener_in(const LasConfig& c, int k) { return k == 0 ? c.feat_dim : c.pairs(k) ? 2 * c.listener_out() : c.listener_out(); }
}  // namespace

LAS::LAS(const LasConfig& c, Rng& rng) : cfg(c), backend(&cpu_backend()) {
  const int H = cfg.listener_hidden, D = cfg.listener_out(), Hs = cfg.speller_hidden, A = cfg.attention;
  for (int k = 0; k < cfg.listener_layers; ++k) {
    listener_fwd.push_back(lstm_params(listener_in(cfg, k), H, rng));
    listener_bwd.push_back(lstm_params(listener_in(cfg, k), H, rng));
  }
  for (int l = 0; l < cfg.speller_layers; ++l) speller.push_back(lstm_params(l == 0 ? cfg.embed + D : Hs, Hs, rng));
  Tensor e({cfg.vocab, cfg.embed});
  for (auto& v : e.data) v = rng.normal();
  embed = param(std::move(e));
  auto lin = [&](int out, int in) { return param(uniform_tensor({out, in}, 1.0f / std::sqrt((float)in), rng)); };
  auto bias = [&](int out, int in) { return param(uniform_tensor({out}, 1.0f / std::sqrt((float)in), rng)); };
  key_w = lin(A, D); key_b = bias(A, D);
  query_w = lin(A, Hs);
  score_w = lin(1, A);
  if (cfg.location_filters > 0) {  // PyTorch's Conv1d(1, K, r) and Linear(K, A, bias=False) initialisation
    loc_conv = lin(cfg.location_filters, cfg.location_width);
    loc_w = lin(A, cfg.location_filters);
  }
  out_w = lin(cfg.vocab, Hs + D); out_b = bias(cfg.vocab, Hs + D);
  if (cfg.ctc_weight > 0) { ctc_w = lin(cfg.vocab, D); ctc_b = bias(cfg.vocab, D); }
}

std::vector<std::pair<std::string, std::vector<int64_t>>> LAS::parameter_shapes(const LasConfig& c) {
  const int64_t H = c.listener_hidden, D = c.listener_out(), Hs = c.speller_hidden, A = c.attention, V = c.vocab;
  std::vector<std::pair<std::string, std::vector<int64_t>>> out;
  for (int k = 0; k < c.listener_layers; ++k)
    for (std::string dir : {"", "_reverse"}) {
      std::string p = "listener." + std::to_string(k) + ".";
      out.push_back({p + "weight_ih_l0" + dir, {4 * H, listener_in(c, k)}});
      out.push_back({p + "weight_hh_l0" + dir, {4 * H, H}});
      out.push_back({p + "bias_ih_l0" + dir, {4 * H}});
      out.push_back({p + "bias_hh_l0" + dir, {4 * H}});
    }
  for (int l = 0; l < c.speller_layers; ++l) {
    std::string p = "speller." + std::to_string(l) + ".";
    out.push_back({p + "weight_ih", {4 * Hs, l == 0 ? c.embed + D : Hs}});
    out.push_back({p + "weight_hh", {4 * Hs, Hs}});
    out.push_back({p + "bias_ih", {4 * Hs}});
    out.push_back({p + "bias_hh", {4 * Hs}});
  }
  out.push_back({"embed.weight", {V, c.embed}});
  out.push_back({"att.key.weight", {A, D}});
  out.push_back({"att.key.bias", {A}});
  out.push_back({"att.query.weight", {A, Hs}});
  out.push_back({"att.score.weight", {1, A}});
  if (c.location_filters > 0) {
    out.push_back({"att.loc_conv.weight", {c.location_filters, c.location_width}});
    out.push_back({"att.loc.weight", {A, c.location_filters}});
  }
  out.push_back({"out.weight", {V, Hs + D}});
  out.push_back({"out.bias", {V}});
  if (c.ctc_weight > 0) {
    out.push_back({"ctc.weight", {V, D}});
    out.push_back({"ctc.bias", {V}});
  }
  return out;
}

std::vector<std::pair<std::string, Var>> LAS::named_parameters() const {
  std::vector<Var> vars;
  for (int k = 0; k < cfg.listener_layers; ++k)
    for (const RnnParams* p : {&listener_fwd[k], &listener_bwd[k]}) vars.insert(vars.end(), {p->w_ih, p->w_hh, p->b_ih, p->b_hh});
  for (auto& p : speller) vars.insert(vars.end(), {p.w_ih, p.w_hh, p.b_ih, p.b_hh});
  vars.insert(vars.end(), {embed, key_w, key_b, query_w, score_w});
  if (cfg.location_filters > 0) vars.insert(vars.end(), {loc_conv, loc_w});
  vars.insert(vars.end(), {out_w, out_b});
  if (cfg.ctc_weight > 0) vars.insert(vars.end(), {ctc_w, ctc_b});
  auto shapes = parameter_shapes(cfg);
  std::vector<std::pair<std::string, Var>> out;
  for (size_t i = 0; i < vars.size(); ++i) out.push_back({shapes[i].first, vars[i]});
  return out;
}

std::map<std::string, std::string> LAS::file_metadata() const {
  char ctc[32];
  std::snprintf(ctc, sizeof ctc, "%g", cfg.ctc_weight);
  std::map<std::string, std::string> m = {{"format", "memsig-las"},
          {"feat_dim", std::to_string(cfg.feat_dim)},
          {"listener_layers", std::to_string(cfg.listener_layers)},
          {"pyramid", std::to_string(cfg.pyramid)},
          {"listener_hidden", std::to_string(cfg.listener_hidden)},
          {"speller_layers", std::to_string(cfg.speller_layers)},
          {"speller_hidden", std::to_string(cfg.speller_hidden)},
          {"embed", std::to_string(cfg.embed)},
          {"attention", std::to_string(cfg.attention)},
          {"ctc_weight", ctc},
          {"symbols", nlohmann::json(symbol_names()).dump()}};
  if (cfg.location_filters > 0) {  // absent: content-based attention (files before the option)
    m["location_filters"] = std::to_string(cfg.location_filters);
    m["location_width"] = std::to_string(cfg.location_width);
  }
  if (!feat_mean.empty()) {
    m["feat_mean"] = nlohmann::json(feat_mean).dump();
    m["feat_std"] = nlohmann::json(feat_std).dump();
  }
  return m;
}

std::string LAS::describe() const {
  char buf[200];
  std::snprintf(buf, sizeof buf, "LAS: listener %dx%d BLSTM (%dx reduction), speller %dx%d LSTM, attention %d, embed %d, CTC weight %g",
                cfg.listener_layers, cfg.listener_hidden, cfg.reduction(), cfg.speller_layers, cfg.speller_hidden,
                cfg.attention, cfg.embed, cfg.ctc_weight);
  std::string d = buf;
  if (cfg.location_filters > 0)
    d += ", location-aware (" + std::to_string(cfg.location_filters) + " filters of " + std::to_string(cfg.location_width) + ")";
  return d;
}

ListenerOut LAS::listen(const LasInput& in) const {
  if (in.D != cfg.feat_dim)
    throw std::invalid_argument("the features have " + std::to_string(in.D) + " dimensions; the model reads " +
                                std::to_string(cfg.feat_dim));
  ListenerOut lo;
  Tensor x0({(int64_t)in.T * in.B, in.D});
  std::copy(in.feats, in.feats + x0.numel(), x0.data.begin());
  Var x = constant(std::move(x0));
  int T = in.T;
  std::vector<int> len = in.frames;
  for (int k = 0; k < cfg.listener_layers; ++k) {
    if (cfg.pairs(k)) {
      x = pair_frames(x, T, in.B);
      T = (T + 1) / 2;
      len = paired_lengths(len);
    }
    BiRnnOut o = birnn_layer(*backend, Cell::LSTM, x, listener_fwd[k], listener_bwd[k], T, in.B, len);
    x = o.h;
    lo.layers.push_back(x);
    lo.T.push_back(T);
    lo.lengths.push_back(len);
    lo.fwd.push_back(o.fwd);
    lo.bwd.push_back(o.bwd);
  }
  lo.memory = gather_rows(x, time_to_batch_major(T, in.B));
  lo.keys = linear(lo.memory, key_w, key_b);
  return lo;
}

std::vector<Var> LAS::zero_state(int B) const {
  std::vector<Var> s;
  for (int l = 0; l < cfg.speller_layers; ++l) s.push_back(constant(Tensor({B, 2 * cfg.speller_hidden})));
  return s;
}

LAS::Step LAS::step(const ListenerOut& lo, const std::vector<int32_t>& prev, const std::vector<Var>& state, const Var& ctx,
                    Rng*) const {
  const int B = (int)prev.size(), T = lo.T.back(), Hs = cfg.speller_hidden, D = cfg.listener_out();
  Step s;
  Var x = concat({embedding(embed, prev), ctx});
  for (int l = 0; l < cfg.speller_layers; ++l) {
    Var hc = lstm_step(x, state[l], speller[l]);
    s.state.push_back(hc);
    x = split(hc, {Hs, Hs})[0];
  }
  s.query = x;
  Var q = linear(s.query, query_w, nullptr);                                   // [B, A]
  Var pre = add(lo.keys, gather_rows(q, repeat_rows(B, T)));                   // K h_u + b_K + Q s_i  [B*T, A]
  if (cfg.location_filters > 0) {  // + U (F * a_{i-1})
    Var prev_att = (int)state.size() > cfg.speller_layers ? state[cfg.speller_layers] : constant(Tensor({B, T}));
    pre = add(pre, linear(conv_over_time(prev_att, loc_conv, B, T), loc_w, nullptr));
  }
  Var e = linear(tanh(pre), score_w, nullptr);                                 // [B*T, 1]
  s.attention = masked_softmax(e, B, T, lo.lengths.back());
  if (cfg.location_filters > 0) s.state.push_back(s.attention);
  s.ctx = batched_matmul(s.attention, lo.memory, B, 1, T, D);
  s.logits = linear(concat({s.query, s.ctx}), out_w, out_b);
  return s;
}

Var LAS::loss(const LasInput& in, const LasTrainExtras& extras, Rng* rng, LasLossStats* stats) const {
  const Batch& tb = *in.text;
  if (tb.B != in.B) throw std::invalid_argument("LAS::loss: frames and transcripts of different batch sizes");
  ListenerOut lo = listen(in);
  const int U = tb.T, B = tb.B, V = cfg.vocab;
  std::vector<Var> state = zero_state(B);
  Var ctx = constant(Tensor({B, cfg.listener_out()}));
  std::vector<Var> logits;
  std::vector<int32_t> prev(B);
  for (int i = 0; i < U; ++i) {
    for (int b = 0; b < B; ++b) {
      prev[b] = tb.inputs[(size_t)i * B + b];
      if (i > 0 && extras.sampling > 0 && rng && rng->uniform() < extras.sampling) {  // the model's own guess
        const float* z = logits.back()->value.ptr() + (size_t)b * V;
        prev[b] = (int32_t)(std::max_element(z, z + V) - z);
      }
    }
    Step s = step(lo, prev, state, ctx);
    state = s.state;
    ctx = s.ctx;
    logits.push_back(s.logits);
  }
  LasLossStats local;
  LasLossStats& st = stats ? *stats : local;
  Var att = smoothed_xent(concat_rows(logits), tb.targets, tb.mask, extras.label_smoothing, &st.att);
  if (cfg.ctc_weight <= 0) return att;
  // CTC over the last listener layer; labels = the transcript (targets without </s>).
  std::vector<std::vector<int32_t>> labels(B);
  double n_targets = 0;
  for (int b = 0; b < B; ++b) {
    for (int i = 0; i + 1 < tb.lengths[b]; ++i) labels[b].push_back(tb.targets[(size_t)i * B + b]);
    n_targets += tb.lengths[b];
  }
  CtcStats cs;
  Var ctc = ctc_loss(linear(lo.layers.back(), ctc_w, ctc_b), lo.T.back(), B, lo.lengths.back(), labels, 0,
                     (float)(1.0 / std::max(1.0, n_targets)), &cs);
  st.ctc_nats += cs.nats;
  st.ctc_impossible += cs.impossible;
  const float lambda = cfg.ctc_weight;
  Tensor w1({1}, 1.0f - lambda), w2({1}, lambda);
  return add(mul(att, constant(w1)), mul(ctc, constant(w2)));
}

bool is_las_file(const std::map<std::string, std::string>& metadata) {
  auto it = metadata.find("format");
  return it != metadata.end() && it->second == kLasFormat;
}

std::unique_ptr<LAS> load_las(const std::string& path) {
  SafeTensors st = load_safetensors(path);
  if (!is_las_file(st.metadata)) throw FileError(path, "not a memsig LAS model (metadata format must be 'memsig-las')");
  auto get_int = [&](const char* key, int lo, int hi) {
    auto it = st.metadata.find(key);
    if (it == st.metadata.end()) throw FileError(path, std::string("metadata has no '") + key + "'");
    size_t used = 0;
    long long v = 0;
    try { v = std::stoll(it->second, &used); } catch (const std::logic_error&) { used = 0; }
    if (used == 0 || used != it->second.size() || v < lo || v > hi)
      throw FileError(path, std::string("metadata '") + key + "' = '" + it->second + "' is not an integer in " +
                                std::to_string(lo) + ".." + std::to_string(hi));
    return (int)v;
  };
  LasConfig c;
  c.feat_dim = get_int("feat_dim", 1, 1024);
  c.listener_layers = get_int("listener_layers", 1, 8);
  c.pyramid = get_int("pyramid", 0, c.listener_layers - 1);
  c.listener_hidden = get_int("listener_hidden", 1, 1 << 14);
  c.speller_layers = get_int("speller_layers", 1, 16);
  c.speller_hidden = get_int("speller_hidden", 1, 1 << 14);
  c.embed = get_int("embed", 1, 1 << 14);
  c.attention = get_int("attention", 1, 1 << 14);
  if (st.metadata.count("location_filters")) {
    c.location_filters = get_int("location_filters", 1, 1024);
    c.location_width = get_int("location_width", 1, 1023);
    if (c.location_width % 2 == 0) throw FileError(path, "metadata 'location_width' must be odd");
  }
  auto ctc = st.metadata.find("ctc_weight");
  if (ctc == st.metadata.end()) throw FileError(path, "metadata has no 'ctc_weight'");
  try {
    size_t used = 0;
    c.ctc_weight = std::stof(ctc->second, &used);
    if (used != ctc->second.size() || !(c.ctc_weight >= 0 && c.ctc_weight < 1)) throw std::invalid_argument("");
  } catch (const std::logic_error&) {
    throw FileError(path, "metadata 'ctc_weight' = '" + ctc->second + "' is not a number in [0, 1)");
  }
  check_symbols_metadata(path, st);
  check_tensor_shapes(path, st, LAS::parameter_shapes(c));
  Rng rng(0);
  auto m = std::make_unique<LAS>(c, rng);
  m->file = path;
  auto mean = st.metadata.find("feat_mean"), sd = st.metadata.find("feat_std");
  if ((mean == st.metadata.end()) != (sd == st.metadata.end())) throw FileError(path, "metadata has one of feat_mean, feat_std without the other");
  if (mean != st.metadata.end()) {
    try {
      m->feat_mean = nlohmann::json::parse(mean->second).get<std::vector<double>>();
      m->feat_std = nlohmann::json::parse(sd->second).get<std::vector<double>>();
    } catch (const nlohmann::json::exception&) {
      throw FileError(path, "metadata feat_mean / feat_std are not JSON arrays of numbers");
    }
    if ((int)m->feat_mean.size() != c.feat_dim || (int)m->feat_std.size() != c.feat_dim)
      throw FileError(path, "metadata feat_mean / feat_std do not have feat_dim entries");
    for (double v : m->feat_std)
      if (!(v > 0 && std::isfinite(v))) throw FileError(path, "metadata feat_std holds a value that is not positive");
  }
  for (auto& [name, p] : m->named_parameters()) {
    p->value.data = st.at(path, name).data;
    for (float v : p->value.data)
      if (!std::isfinite(v)) throw FileError(path, "tensor '" + name + "' holds a non-finite value");
  }
  return m;
}

}  // namespace memsig
