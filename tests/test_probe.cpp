// The probe against a known answer, and the files it writes.
#include <catch2/catch.hpp>
#include <unistd.h>

#include <filesystem>

#include "engine/files.h"
#include "models/model_file.h"
#include "figures/signature_plots.h"
#include "probe/charlm_source.h"
#include "probe/signature.h"
#include "probe/signature_diff.h"
#include "probe/signature_json.h"
#include "temp_files.h"

using namespace memsig;
using memsig::test::temp_path;

namespace {

// An LSTM whose cell state is a delay line of the last K inputs: slot k (34 units) of c_t holds
// x_{t-k} one-hot as +-1. Gates: i = 1, f = 0, o = 1 (saturated biases); g of slot 0 reads the
// one-hot embedding, g of slot k reads slot k-1 of h = tanh(c).
std::shared_ptr<CharLM> delay_line_lstm(int K) {
  const int V = kNumSymbols, H = K * V;
  CharLMConfig cfg;
  cfg.cell = Cell::LSTM; cfg.layers = 1; cfg.hidden = H; cfg.embed = V;
  Rng rng(1);
  auto m = std::make_shared<CharLM>(cfg, rng);
  m->embed->value.zero();
  for (int v = 0; v < V; ++v) m->embed->value.data[v * V + v] = 1.0f;
  RnnParams& p = m->rnn[0];
  for (auto* t : {&p.w_ih->value, &p.w_hh->value, &p.b_ih->value, &p.b_hh->value}) t->zero();
  const float A = 10.0f;
  for (int j = 0; j < H; ++j) {
    p.b_ih->value.data[0 * H + j] = 20.0f;   // i = 1
    p.b_ih->value.data[1 * H + j] = -20.0f;  // f = 0
    p.b_ih->value.data[3 * H + j] = 20.0f;   // o = 1
  }
  for (int v = 0; v < V; ++v) {
    p.w_ih->value.data[(size_t)(2 * H + v) * V + v] = A;  // slot 0 <- x_t
    p.b_ih->value.data[2 * H + v] = -A / 2;
    for (int k = 1; k < K; ++k)  // slot k <- slot k-1
      p.w_hh->value.data[(size_t)(2 * H + k * V + v) * H + (k - 1) * V + v] = A;
  }
  return m;
}

Corpus iid_letters(uint64_t seed) {
  Corpus c;
  c.name = "iid";
  Rng rng(seed);
  auto segs = [&](int n) {
    std::vector<Segment> out(n);
    for (auto& s : out) for (int t = 0; t < 30; ++t) s.push_back((uint8_t)(3 + rng.below(26)));
    return out;
  };
  c.train = segs(600);
  c.valid = segs(120);
  c.test = segs(120);
  return c;
}

// Quiet signature settings for small tests: D lags, decoders of `hidden` units, `epochs` epochs.
SignatureOptions small_options(int D, int hidden, int epochs, int bootstrap) {
  SignatureOptions o;
  o.states.max_lag = D;
  o.probe.hidden = hidden;
  o.probe.max_epochs = epochs;
  o.probe.bootstrap = bootstrap;
  o.quiet = true;
  o.probe.quiet = true;
  return o;
}

}  // namespace

TEST_CASE("a delay-line LSTM holding K inputs: recall ~1 for d < K, chance for d >= K", "[probe]") {
  const int K = 4, D = 7;
  auto model = delay_line_lstm(K);
  Corpus c = iid_letters(5);
  SignatureOptions o = small_options(D, 32, 8, 200);
  Signature sig = compute_signature(CharLMSource(model), c, o);
  const EntrySignature& l = sig.trained.entries.at(0);
  REQUIRE(l.state == "c");
  for (int d = 1; d <= D; ++d) {
    const LagResult& r = l.lags[d - 1];
    REQUIRE(r.lag == d);
    double acc = r.accuracy, chance = r.chance, lo = r.ci_lo, hi = r.ci_hi;
    INFO("d=" << d << " accuracy " << acc << " chance " << chance << " CI [" << lo << "," << hi << "]");
    REQUIRE(lo <= acc);
    REQUIRE(acc <= hi);
    REQUIRE(chance < 0.08);  // 26 letters, uniform
    if (d < K) REQUIRE(acc > 0.97);
    else REQUIRE(acc < chance + 0.04);
  }
  // Per-symbol recall follows the same split, for every letter.
  for (int s = 3; s < 29; ++s) {
    REQUIRE(l.lags[0].recall[s] > 0.9);
    REQUIRE(l.lags[K].recall[s] < 0.5);
  }
}

TEST_CASE("signature files (JSON schema, CSVs, PNGs) and a self-diff of zero", "[probe]") {
  auto model = delay_line_lstm(2);
  Corpus c = iid_letters(6);
  c.train.resize(150);
  SignatureOptions o = small_options(3, 16, 2, 50);
  o.control = true;
  Signature sig = compute_signature(CharLMSource(model), c, o);
  std::string dir = temp_path("sig");
  write_signature_files(sig, dir, "test");
  for (const char* f : {"signature.json", "signature_l1.png", "signature_l1.csv", "marginal.png", "marginal.csv",
                        "control_signature_l1.png", "control_marginal.png"})
    REQUIRE(file_exists(dir + "/" + f));
  auto raw = nlohmann::json::parse(read_file(dir + "/signature.json"));
  REQUIRE(raw["entries"][0]["lag"] == nlohmann::json({1, 2, 3}));
  REQUIRE(raw["entries"][0]["recall"][0].size() == 34);
  REQUIRE(raw["forward"]["recall"].size() == 34);
  REQUIRE(raw["control"]["entries"].size() == 1);
  Signature back = load_signature(dir + "/signature.json");
  REQUIRE(to_json(back).dump() == to_json(sig).dump());  // the typed value survives its JSON exactly
  std::string png = read_file(dir + "/signature_l1.png");
  REQUIRE(png.substr(1, 3) == "PNG");
  auto d = diff_signatures(back, back);
  REQUIRE(d[0].mean_abs == 0.0);
  diff_heatmap(d, "self").save_png(dir + "/diff.png");
  REQUIRE(file_exists(dir + "/diff.png"));
  std::filesystem::remove_all(dir);
}

TEST_CASE("a stopped signature run reuses the entries its checkpoint holds, if the settings match", "[probe]") {
  auto model = delay_line_lstm(2);
  Corpus c = iid_letters(8);
  c.train.resize(100);
  SignatureOptions o = small_options(2, 8, 1, 20);
  o.checkpoint = temp_path("ckpt.json");
  CharLMSource source(model);
  Signature first = compute_signature(source, c, o);
  REQUIRE(file_exists(o.checkpoint));
  auto ckpt = nlohmann::json::parse(read_file(o.checkpoint));
  REQUIRE(ckpt["trained"]["entries"].size() == 1);
  REQUIRE(ckpt["trained"]["entries"][0]["accuracy"][0] == first.trained.entries[0].lags[0].accuracy);
  ckpt["trained"]["entries"][0]["accuracy"][0] = 0.123;  // mark it: a reused layer keeps this value
  write_text_atomically(o.checkpoint, ckpt.dump());
  REQUIRE(compute_signature(source, c, o).trained.entries[0].lags[0].accuracy == 0.123);
  o.probe.hidden = 9;  // other settings: the checkpoint is not used
  REQUIRE(compute_signature(source, c, o).trained.entries[0].lags[0].accuracy != 0.123);
  std::filesystem::remove(o.checkpoint);
}

TEST_CASE("a state cache gives a second decoder setting the same states, and a new model new ones", "[probe]") {
  auto model = delay_line_lstm(2);
  Corpus c = iid_letters(8);
  c.train.resize(100);
  SignatureOptions o = small_options(2, 8, 1, 20);
  CharLMSource source(model);
  StateCache cache;
  o.state_cache = &cache;
  Signature a = compute_signature(source, c, o);
  REQUIRE(!cache.key.empty());
  const int64_t n = cache.train.n;
  o.probe.hidden = 9;  // another decoder on the cached states ...
  Signature with_cache = compute_signature(source, c, o);
  o.state_cache = nullptr;  // ... gives what extracting them afresh gives
  Signature without = compute_signature(source, c, o);
  REQUIRE(to_json(with_cache).dump() == to_json(without).dump());
  const std::string key = cache.key;
  CharLMSource other(delay_line_lstm(3));
  o.state_cache = &cache;
  compute_signature(other, c, o);
  REQUIRE(cache.key != key);  // another model's states replaced them
  REQUIRE(cache.train.n == n);
}

TEST_CASE("colour maps run white to dark purple, and blue through white to red", "[probe]") {
  Rgb w = sequential_color(0), p = sequential_color(1);
  REQUIRE(w.r > 245); REQUIRE(w.g > 245); REQUIRE(w.b > 245);
  REQUIRE(p.r < 80); REQUIRE(p.g < 20); REQUIRE(p.b > 100);
  Rgb neg = diverging_color(-1), mid = diverging_color(0), pos = diverging_color(1);
  REQUIRE(neg.b > neg.r); REQUIRE(pos.r > pos.b);
  REQUIRE(mid.r > 240); REQUIRE(mid.g > 240); REQUIRE(mid.b > 240);
}

TEST_CASE("paired bootstrap: a signature against itself differs nowhere, a longer delay line significantly", "[probe]") {
  Corpus c = iid_letters(12);
  SignatureOptions o = small_options(4, 32, 6, 100);
  Signature two = compute_signature(CharLMSource(delay_line_lstm(2)), c, o);
  Signature four = compute_signature(CharLMSource(delay_line_lstm(4)), c, o);
  auto self = diff_signatures(two, two, 200);
  REQUIRE(self[0].paired);
  for (size_t i = 0; i < self[0].lags.size(); ++i) {
    REQUIRE(self[0].accuracy_lo[i] == 0.0);
    REQUIRE(self[0].accuracy_hi[i] == 0.0);
  }
  for (auto s : self[0].significant) REQUIRE(s == 0);
  auto d = diff_signatures(two, four, 200);  // B - A = 4-slot minus 2-slot line
  REQUIRE(d[0].paired);
  REQUIRE(d[0].accuracy_lo[2] > 0.5);  // lag 3: only the 4-slot line holds it
  REQUIRE(d[0].accuracy_hi[0] >= 0.0);
  REQUIRE(d[0].accuracy_lo[0] <= 0.0);  // lag 1: both hold it
  // The test positions and predictions survive the JSON round trip.
  Signature back = signature_from_json(to_json(four), "four.json");
  REQUIRE(back.trained.test == four.trained.test);
  REQUIRE(!back.trained.test.empty());
  REQUIRE(back.trained.entries[0].lags[2].test_predictions == four.trained.entries[0].lags[2].test_predictions);
  REQUIRE(diff_signatures(two, back, 50)[0].paired);
}

TEST_CASE("a linear decoder (depth 0) reads a one-hot delay line as well as an MLP", "[probe]") {
  Corpus c = iid_letters(14);
  SignatureOptions o = small_options(3, 16, 8, 50);
  o.probe.depth = 0;
  Signature sig = compute_signature(CharLMSource(delay_line_lstm(2)), c, o);
  REQUIRE(sig.trained.entries[0].lags[0].accuracy > 0.97);
  REQUIRE(sig.trained.entries[0].lags[2].accuracy < 0.12);
}

TEST_CASE("the fused decoder bank gives the autograd bank's answers (same weights, shuffles and protocol)", "[probe]") {
  // An untrained GRU remembers its last few inputs partly: accuracies fall towards chance over the
  // lags, so the two banks are compared where there is something to get right and wrong.
  CharLMConfig cfg;
  cfg.cell = Cell::GRU; cfg.layers = 1; cfg.hidden = 48; cfg.embed = 16;
  Rng init(3);
  CharLMSource source(std::make_shared<CharLM>(cfg, init));
  Corpus c = iid_letters(21);
  StateOptions so;
  so.max_lag = 5;
  StateSet train = extract_states(source, c.train, so), valid = extract_states(source, c.valid, so),
           test = extract_states(source, c.test, so);
  ProbeOptions po;
  po.hidden = 24;
  po.bootstrap = 200;
  po.quiet = true;
  for (int epochs : {1, 6}) {
    po.max_epochs = epochs;
    po.autograd_bank = false;
    auto fused = probe_entry(train, valid, test, 0, po);
    po.autograd_bank = true;
    auto reference = probe_entry(train, valid, test, 0, po);
    for (int d = 0; d < so.max_lag; ++d) {
      const LagResult &f = fused[d], &r = reference[d];
      int64_t agree = 0;
      for (size_t i = 0; i < f.test_predictions.size(); ++i) agree += f.test_predictions[i] == r.test_predictions[i];
      double agreement = (double)agree / f.test_predictions.size();
      INFO("epochs " << epochs << " d=" << d + 1 << " fused " << f.accuracy << " autograd " << r.accuracy << " ["
                     << r.ci_lo << "," << r.ci_hi << "] agreement " << agreement);
      REQUIRE(f.n == r.n);
      if (epochs == 1) {  // one epoch from the same start: only the rounding of a few sums differs
        REQUIRE(agreement > 0.99);
        REQUIRE(std::abs(f.accuracy - r.accuracy) < 0.005);
        REQUIRE(std::abs(f.valid_accuracy - r.valid_accuracy) < 0.005);
      } else {  // rounding differences grow over the epochs; the answers stay inside the interval
        REQUIRE(f.accuracy >= r.ci_lo);
        REQUIRE(f.accuracy <= r.ci_hi);
      }
    }
    INFO("epochs " << epochs << " lag 1 " << fused[0].accuracy << " lag 5 " << fused[so.max_lag - 1].accuracy << " chance "
                   << fused[0].chance);
    REQUIRE(fused[0].accuracy > fused[0].chance + 0.05);          // lag 1 is partly remembered
    REQUIRE(fused[so.max_lag - 1].accuracy < fused[0].accuracy);  // and later lags less
  }
}
