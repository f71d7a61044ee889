// The LAS model (models/las.h): it learns a tiny synthetic "speech" task (each symbol spoken as a
// few noisy frames of its own pattern) well enough to spell held-out utterances; finite-difference
// gradients through the whole model (listener, attention, speller, joint CTC, label smoothing);
// model files round-trip; CER/WER counting; beam search at width 1 equals greedy decoding;
// location-aware attention (gradients, learning, files); LAS as a model kind (models/any_model.h)
// with its state source; shallow fusion with a char LM in beam search; the CTC forced alignment
// from its joint-CTC head (monotone spans near the true timing; refused without a CTC head).
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <limits>

#include "engine/optim.h"
#include "engine/safetensors.h"
#include "models/any_model.h"
#include "models/las.h"
#include "models/las_align.h"
#include "models/las_decode.h"
#include "models/las_fusion.h"
#include "models/train_las.h"
#include "models/trainer.h"
#include "probe/sources.h"
#include "gradcheck.h"
#include "temp_files.h"

using namespace memsig;
using namespace memsig::test;

namespace {

// Utterances over the letters a..d, 2-4 letters each; letter c is spoken as `frames` frames of
// the pattern P_c (random, fixed by the seed) plus noise. Time-major features and a text Batch.
struct ToyBatch {
  int T = 0, B = 0, D = 6;
  std::vector<float> feats;
  std::vector<int> frames;
  std::vector<Segment> texts;
  Batch text;
  LasInput input() const {
    LasInput in;
    in.T = T; in.B = B; in.D = D;
    in.feats = feats.data();
    in.frames = frames;
    in.text = &text;
    return in;
  }
};

ToyBatch toy_batch(Rng& rng, int B, const std::vector<std::vector<float>>& patterns, int frames = 3) {
  ToyBatch b;
  b.B = B;
  for (int k = 0; k < B; ++k) {
    Segment s;
    int n = 2 + (int)rng.below(3);
    for (int i = 0; i < n; ++i) s.push_back(3 + (int)rng.below(4));  // a..d
    b.texts.push_back(s);
    b.frames.push_back(n * frames + 2);  // a frame of silence either side
    b.T = std::max(b.T, b.frames.back());
  }
  b.feats.assign((size_t)b.T * B * b.D, 0.0f);
  for (int k = 0; k < B; ++k)
    for (int t = 1; t + 1 < b.frames[k]; ++t) {
      int sym = b.texts[k][(t - 1) / frames] - 3;
      for (int d = 0; d < b.D; ++d) b.feats[((size_t)t * B + k) * b.D + d] = patterns[sym][d] + 0.2f * rng.normal();
    }
  std::vector<int> idx(B);
  for (int k = 0; k < B; ++k) idx[k] = k;
  b.text = make_batch(b.texts, idx);
  return b;
}

LasConfig toy_config() {
  LasConfig c;
  c.feat_dim = 6;
  c.listener_layers = 2;
  c.listener_hidden = 12;
  c.speller_layers = 1;
  c.speller_hidden = 24;
  c.embed = 8;
  c.attention = 12;
  c.ctc_weight = 0.3f;
  return c;
}

}  // namespace

namespace {
void learns_the_toy_task(const LasConfig& cfg) {
  Rng rng(3);
  std::vector<std::vector<float>> patterns(4, std::vector<float>(6));
  for (auto& p : patterns)
    for (auto& v : p) v = rng.uniform(-1.5f, 1.5f);
  Rng init(1);
  LAS model(cfg, init);
  Adam adam(model.parameters(), 1e-2f);
  LasTrainExtras extras;
  double first = 0, last = 0;
  for (int step = 0; step < 250; ++step) {
    ToyBatch b = toy_batch(rng, 8, patterns);
    LasLossStats st;
    Var loss = model.loss(b.input(), extras, &rng, &st);
    train_step(adam, loss, 5.0f);
    double bits = st.att.nats / st.att.count / std::log(2.0);
    if (step < 10) first += bits / 10;
    if (step >= 240) last += bits / 10;
  }
  INFO("attention loss, bits per symbol: first 10 steps " << first << ", last 10 " << last);
  CHECK(last < 0.3 * first);
  ToyBatch held = toy_batch(rng, 32, patterns);
  std::vector<Decoded> hyps = greedy_decode(model, held.input());
  ErrorCounts e;
  for (int k = 0; k < held.B; ++k) e.add(held.texts[k], hyps[k].text);
  INFO("held-out CER " << e.cer() << "%");
  CHECK(e.cer() < 10.0);
  // Beam search at width 1 spells what greedy decoding spells.
  ToyBatch one = toy_batch(rng, 1, patterns);
  CHECK(beam_decode(model, one.input(), 1).text == greedy_decode(model, one.input())[0].text);
  Segment beam8 = beam_decode(model, one.input(), 8).text;
  CHECK(edit_distance(std::vector<int32_t>(beam8.begin(), beam8.end()),
                      std::vector<int32_t>(one.texts[0].begin(), one.texts[0].end())) <= 1);
}
}  // namespace

TEST_CASE("LAS learns to spell a tiny synthetic speech task", "[las]") { learns_the_toy_task(toy_config()); }

TEST_CASE("LAS with location-aware attention learns the tiny task too", "[las]") {
  LasConfig c = toy_config();
  c.location_filters = 4;
  c.location_width = 5;
  learns_the_toy_task(c);
}

TEST_CASE("LAS loss: finite-difference gradients through listener, attention, speller and CTC", "[las]") {
  Rng rng(4);
  std::vector<std::vector<float>> patterns(4, std::vector<float>(6));
  for (auto& p : patterns)
    for (auto& v : p) v = rng.uniform(-1.0f, 1.0f);
  LasConfig c = toy_config();
  c.listener_hidden = 3; c.speller_hidden = 4; c.embed = 2; c.attention = 3;
  Rng init(2);
  LAS model(c, init);
  ToyBatch b = toy_batch(rng, 2, patterns, 2);
  LasTrainExtras extras;
  extras.label_smoothing = 0.1f;
  std::vector<Var> some;
  for (auto& [name, p] : model.named_parameters())
    if (name == "listener.0.weight_ih_l0_reverse" || name == "listener.1.bias_hh_l0" || name == "speller.0.weight_hh" ||
        name == "att.key.weight" || name == "att.score.weight" || name == "out.bias" || name == "ctc.weight" ||
        name == "embed.weight")
      some.push_back(p);
  REQUIRE(some.size() == 8);
  check_gradients(some, [&] { return model.loss(b.input(), extras, nullptr, nullptr); }, 1e-3f, 2e-3f, 3e-2f);
}

TEST_CASE("LAS loss with location-aware attention: finite-difference gradients through the location filters", "[las]") {
  Rng rng(6);
  std::vector<std::vector<float>> patterns(4, std::vector<float>(6));
  for (auto& p : patterns)
    for (auto& v : p) v = rng.uniform(-1.0f, 1.0f);
  LasConfig c = toy_config();
  c.listener_hidden = 3; c.speller_hidden = 4; c.embed = 2; c.attention = 3;
  c.location_filters = 2; c.location_width = 3;
  Rng init(2);
  LAS model(c, init);
  for (auto& v : model.loc_conv->value.data) v *= 4;  // features large enough to steer the attention
  ToyBatch b = toy_batch(rng, 2, patterns, 2);
  std::vector<Var> some;
  for (auto& [name, p] : model.named_parameters())
    if (name == "att.loc_conv.weight" || name == "att.loc.weight" || name == "att.query.weight" || name == "speller.0.weight_ih")
      some.push_back(p);
  REQUIRE(some.size() == 4);
  check_gradients(some, [&] { return model.loss(b.input(), LasTrainExtras{}, nullptr, nullptr); }, 1e-3f, 2e-3f, 3e-2f);
  // The location term matters: without it (U = 0) the loss differs.
  double with = model.loss(b.input(), LasTrainExtras{}, nullptr, nullptr)->value.data[0];
  for (auto& v : model.loc_w->value.data) v = 0;
  CHECK(model.loss(b.input(), LasTrainExtras{}, nullptr, nullptr)->value.data[0] != Approx(with).epsilon(1e-4));
}

TEST_CASE("LAS model files round-trip, bad metadata is refused", "[las]") {
  Rng init(5);
  LAS model(toy_config(), init);
  model.feat_mean.assign(6, 0.5);
  model.feat_std.assign(6, 2.0);
  std::string path = temp_path("las.safetensors");
  save_trainable(path, model);
  auto back = load_las(path);
  CHECK(weights_digest(*back) == weights_digest(model));
  CHECK(back->feat_std == model.feat_std);
  CHECK(back->file_metadata() == model.file_metadata());
  auto meta = model.file_metadata();
  meta["listener_layers"] = "0";
  auto named = model.named_parameters();
  std::vector<std::pair<std::string, const Tensor*>> tensors;
  for (auto& [n, p] : named) tensors.push_back({n, &p->value});
  save_safetensors(path, tensors, meta);
  CHECK_THROWS_WITH(load_las(path), Catch::Contains("listener_layers"));
  // Location-aware attention: its sizes in the metadata, its two tensors.
  LasConfig lc = toy_config();
  lc.location_filters = 3;
  lc.location_width = 7;
  LAS loc(lc, init);
  loc.feat_mean.assign(6, 0.0);
  loc.feat_std.assign(6, 1.0);
  save_trainable(path, loc);
  auto loc_back = load_las(path);
  CHECK(loc_back->cfg.location_filters == 3);
  CHECK(loc_back->cfg.location_width == 7);
  CHECK(weights_digest(*loc_back) == weights_digest(loc));
  std::remove(path.c_str());
}

TEST_CASE("LAS is a model kind: load_any_model, its state source and its data reader", "[las]") {
  Rng init(5);
  LAS model(toy_config(), init);
  model.feat_mean.assign(6, 0.0);
  model.feat_std.assign(6, 1.0);
  std::string path = temp_path("kind.safetensors");
  save_trainable(path, model);
  AnyModel any = load_any_model(path);
  CHECK(any.format == kLasFormat);
  CHECK(any.lm == nullptr);  // not a language model: eval and sample refuse it
  REQUIRE(find_model_kind(kLasFormat) != nullptr);
  CHECK(weights_digest(*any.as<LAS>()) == weights_digest(model));
  auto source = state_source(any);
  auto entries = source->entries();
  REQUIRE(entries.size() == 3);
  CHECK(entries[0].name == "listener 1");
  CHECK(entries[2].name == "speller query");
  CHECK(probe_data_reader(kLasFormat) != nullptr);  // probed on a speech set (--data DIR)
  CHECK(probe_data_reader("memsig-charlm") == nullptr);
  CHECK_THROWS_WITH(state_source(any, "c"), Catch::Contains("does not apply"));
  std::remove(path.c_str());
}

namespace {
// A char LM whose next symbol is `favourite` whatever it read: zero output weights, bias 50 there.
std::shared_ptr<CharLM> lm_that_always_says(int favourite) {
  CharLMConfig c;
  c.cell = Cell::LSTM;
  c.hidden = 8;
  c.embed = 4;
  Rng rng(7);
  auto lm = std::make_shared<CharLM>(c, rng);
  for (auto& v : lm->proj_w->value.data) v = 0;
  for (auto& v : lm->proj_b->value.data) v = 0;
  lm->proj_b->value.data[favourite] = 50;
  return lm;
}
}  // namespace

TEST_CASE("Shallow fusion: the LM side of the beam steps like the LM over whole sequences", "[las]") {
  CharLMConfig c;
  c.cell = Cell::LSTM;
  c.layers = 2;
  c.hidden = 6;
  c.embed = 3;
  Rng rng(9);
  CharLM lm(c, rng);
  const int V = c.vocab;
  // ln p(next | <s> seq) from one forward pass over the whole sequence.
  auto whole = [&](const std::vector<int32_t>& seq) {
    std::vector<int32_t> in{kBos};
    in.insert(in.end(), seq.begin(), seq.end());
    NoGrad ng;
    LMForward f = lm.forward(in, (int)in.size(), 1, nullptr);
    std::vector<float> lp(V);
    log_softmax_rows(f.logits->value.ptr() + (in.size() - 1) * V, 1, V, lp.data());
    return lp;
  };
  auto same = [&](const float* got, const std::vector<float>& want) {
    for (int v = 0; v < V; ++v) REQUIRE(got[v] == Approx(want[v]).margin(1e-5));
  };
  LmBeamState s(lm);
  same(s.logp(0), whole({}));
  s.advance({0, 0}, {3, 4});  // "a", "b"
  same(s.logp(0), whole({3}));
  same(s.logp(1), whole({4}));
  s.advance({1, 0, 1}, {5, 6, 29});  // "bc", "ad", "b "
  same(s.logp(0), whole({4, 5}));
  same(s.logp(1), whole({3, 6}));
  same(s.logp(2), whole({4, 29}));
  CHECK_THROWS(s.advance({3}, {3}));
}

TEST_CASE("Shallow fusion: weight 0 is plain beam search; an LM that insists on a symbol takes over", "[las]") {
  Rng rng(3);
  std::vector<std::vector<float>> patterns(4, std::vector<float>(6));
  for (auto& p : patterns)
    for (auto& v : p) v = rng.uniform(-1.5f, 1.5f);
  Rng init(1);
  LAS model(toy_config(), init);
  Adam adam(model.parameters(), 1e-2f);
  for (int step = 0; step < 120; ++step) {  // a model that spells the toy task somewhat
    ToyBatch b = toy_batch(rng, 8, patterns);
    train_step(adam, model.loss(b.input(), LasTrainExtras{}, &rng, nullptr), 5.0f);
  }
  const int z = 28;  // 'z': never spoken in the toy task (a..d)
  Fusion fusion;
  fusion.lm = lm_that_always_says(z);
  for (int u = 0; u < 4; ++u) {
    ToyBatch one = toy_batch(rng, 1, patterns);
    Decoded plain = beam_decode(model, one.input(), 4);
    fusion.weight = 0;
    Decoded w0 = beam_decode(model, one.input(), 4, &fusion);
    CHECK(w0.text == plain.text);
    CHECK(w0.logprob == plain.logprob);
    fusion.weight = 1;  // ln p_LM: 0 for z, about -50 for anything else (</s> too)
    Decoded zz = beam_decode(model, one.input(), 4, &fusion);
    CHECK(!zz.text.empty());
    CHECK(std::count(zz.text.begin(), zz.text.end(), (uint8_t)z) == (long)zz.text.size());  // nothing but z
    CHECK(std::count(plain.text.begin(), plain.text.end(), (uint8_t)z) == 0);
  }
  // A modest weight on an LM that prefers 'a' moves a hypothesis toward 'a' and never away from it.
  fusion.lm = lm_that_always_says(3);
  fusion.lm->proj_b->value.data[3] = 2;  // ln p(a) - ln p(other) = 2 nats
  int more_a = 0, fewer_a = 0;
  for (int u = 0; u < 6; ++u) {
    ToyBatch one = toy_batch(rng, 1, patterns);
    fusion.weight = 0;
    Segment plain = beam_decode(model, one.input(), 4, &fusion).text;
    fusion.weight = 2;
    Segment fused = beam_decode(model, one.input(), 4, &fusion).text;
    auto as = [](const Segment& s) { return std::count(s.begin(), s.end(), (uint8_t)3); };
    more_a += as(fused) > as(plain);
    fewer_a += as(fused) < as(plain);
  }
  CHECK(fewer_a == 0);
  CHECK(more_a > 0);
}

TEST_CASE("CER and WER count edits against the reference", "[las]") {
  ErrorCounts e;
  e.add(normalize("the cat sat"), normalize("the bat sat"));
  CHECK(e.char_errors == 1);
  CHECK(e.chars == 11);
  CHECK(e.word_errors == 1);
  CHECK(e.words == 3);
  e.add(normalize("a b"), normalize("a b c"));
  CHECK(e.char_errors == 3);
  CHECK(e.word_errors == 2);
  CHECK(e.wer() == Approx(40.0));
}

// Driven by tests/las_torch.sh: the model file written by scripts/las_ref.py (PyTorch 1.13) and, per
// batch, PyTorch's loss and the gradient of every parameter; memsig must agree from the same weights.
TEST_CASE("LAS agrees with the same model in PyTorch: loss and every gradient", "[.las_torch]") {
  const char* dir = std::getenv("MEMSIG_LAS_REF");
  REQUIRE(dir != nullptr);
  auto model = load_las(std::string(dir) + "/las.safetensors");
  std::ifstream in(std::string(dir) + "/ref.txt");
  REQUIRE(in.good());
  int cases = 0, T, B, D;
  float smoothing;
  while (in >> T >> B >> D >> smoothing) {
    ToyBatch b;
    b.T = T; b.B = B; b.D = D;
    b.frames.resize(B);
    for (auto& f : b.frames) in >> f;
    std::vector<int> n(B);
    for (auto& k : n) in >> k;
    for (int k : n) {
      Segment s(k);
      for (auto& c : s) { int v; in >> v; c = (uint8_t)v; }
      b.texts.push_back(s);
    }
    b.feats.resize((size_t)T * B * D);
    for (auto& v : b.feats) in >> v;
    std::vector<int> idx(B);
    for (int k = 0; k < B; ++k) idx[k] = k;
    b.text = make_batch(b.texts, idx);
    double ref_loss;
    int n_params;
    in >> ref_loss >> n_params;
    LasTrainExtras extras;
    extras.label_smoothing = smoothing;
    zero_grad(model->parameters());
    Var loss = model->loss(b.input(), extras, nullptr, nullptr);
    backward(loss);
    INFO("batch " << cases);
    CHECK(loss->value.data[0] == Approx(ref_loss).epsilon(1e-5));
    auto named = model->named_parameters();
    REQUIRE(n_params == (int)named.size());
    for (int p = 0; p < n_params; ++p) {
      std::string name;
      int64_t count;
      in >> name >> count;
      Var mine;
      for (auto& [nm, v] : named) if (nm == name) mine = v;
      REQUIRE(mine);
      REQUIRE(count == mine->value.numel());
      double worst = 0, scale = 0;
      for (int64_t i = 0; i < count; ++i) {
        double g;
        in >> g;
        worst = std::max(worst, std::abs(g - mine->g().data[i]));
        scale = std::max(scale, std::abs(g));
      }
      INFO("parameter " << name << ": largest gradient " << scale << ", largest difference " << worst);
      CHECK(worst <= 1e-5 + 1e-4 * scale);
    }
    REQUIRE(in.good());
    ++cases;
  }
  REQUIRE(cases == 3);
}

namespace {
// A TrainTask whose validation is an error rate, not bits: the toy LAS task, CER on held-out batches.
class ToyCerTask : public TrainTask {
 public:
  ToyCerTask() : init_(1), model_(toy_config(), init_), rng_(3), patterns_(4, std::vector<float>(6)) {
    for (auto& p : patterns_)
      for (auto& v : p) v = rng_.uniform(-1.5f, 1.5f);
    held_ = toy_batch(rng_, 8, patterns_);
  }
  TrainMetric metric() const override {
    TrainMetric m;
    m.targets = "graphemes", m.loss_unit = "bits/grapheme", m.valid_name = "valid CER %", m.valid_is_bits = false;
    m.diverged_valid = std::numeric_limits<double>::infinity();
    m.curve_targets = "graphemes", m.curve_loss = "train_bits_per_grapheme", m.curve_valid = "valid_cer_pct";
    return m;
  }
  Trainable& model() override { return model_; }
  int batches_per_epoch() const override { return 4; }
  int64_t targets_per_epoch() const override { return 4 * 8 * 4; }
  Var batch_loss(int, Rng& rng, XentStats& stats) override {
    ToyBatch b = toy_batch(rng_, 8, patterns_);
    LasLossStats st;
    Var loss = model_.loss(b.input(), LasTrainExtras{}, &rng, &st);
    stats.nats += st.att.nats, stats.count += st.att.count;
    return loss;
  }
  double validate() override {
    ErrorCounts e;
    std::vector<Decoded> hyps = greedy_decode(model_, held_.input());
    for (int k = 0; k < held_.B; ++k) e.add(held_.texts[k], hyps[k].text);
    return e.cer();
  }
  std::string describe() const override { return "toy LAS"; }
  RunSettings run_settings() const override { return {{"run.toy", "1"}}; }

 private:
  Rng init_;
  LAS model_;
  Rng rng_;
  std::vector<std::vector<float>> patterns_;
  ToyBatch held_;
};
}  // namespace

TEST_CASE("The learning curve's columns come from the task's metric (a CER, not bits)", "[las]") {
  ToyCerTask task;
  LoopOptions o;
  o.epochs = 1;
  o.quiet = true;
  o.out = temp_path("curve_task.safetensors");
  o.log_csv = temp_path("curve_task.csv");
  train_loop(task, o);
  std::ifstream in(o.log_csv);
  std::string header, row;
  std::getline(in, header);
  std::getline(in, row);
  CHECK(header == "seconds,epoch,step,graphemes,train_bits_per_grapheme,valid_cer_pct");
  CHECK(std::count(row.begin(), row.end(), ',') == 5);  // no perplexity column for a CER
  for (auto p : {o.out, o.out + ".ckpt", o.log_csv}) std::remove(p.c_str());
}

TEST_CASE("Shallow fusion: tuning on a set picks the weight and bonus of the lowest CER", "[las]") {
  Rng rng(3);
  std::vector<std::vector<float>> patterns(4, std::vector<float>(6));
  for (auto& p : patterns)
    for (auto& v : p) v = rng.uniform(-1.5f, 1.5f);
  Rng init(1);
  LAS model(toy_config(), init);
  Adam adam(model.parameters(), 1e-2f);
  for (int step = 0; step < 120; ++step) {
    ToyBatch b = toy_batch(rng, 8, patterns);
    train_step(adam, model.loss(b.input(), LasTrainExtras{}, &rng, nullptr), 5.0f);
  }
  // Six held-out utterances as a speech set.
  ToyBatch held = toy_batch(rng, 6, patterns);
  SpeechSet set;
  set.dim = held.D;
  for (int k = 0; k < held.B; ++k) {
    Tensor f({held.frames[k], held.D});
    for (int t = 0; t < held.frames[k]; ++t)
      for (int d = 0; d < held.D; ++d) f.data[(size_t)t * held.D + d] = held.feats[((size_t)t * held.B + k) * held.D + d];
    set.ids.push_back("u" + std::to_string(k));
    set.feats.push_back(f);
    set.texts.push_back(held.texts[k]);
    set.frame_symbol.push_back(std::vector<int>(held.frames[k], -1));
  }
  Fusion fusion;
  fusion.lm = lm_that_always_says(28);  // 'z': any weight on it spells z's
  FusionTuning t = tune_fusion(model, set, 4, fusion, {0.0f, 1.0f}, {0.0f, 0.5f}, 4);
  REQUIRE(t.cer.size() == 4);
  CHECK(t.best_weight == 0.0f);
  CHECK(t.cer[2] > t.cer[0]);  // w = 1, β = 0 against plain beam search
  CHECK(t.cer[0] == Approx(decode_set(model, [&] {
                             SpeechSet four = set;
                             four.ids.resize(4), four.feats.resize(4), four.texts.resize(4), four.frame_symbol.resize(4);
                             return four;
                           }(), 4).errors.cer()));  // the first 4 utterances, plain beam search
}

TEST_CASE("CTC alignment on a tiny trained LAS: monotone spans, one per symbol, near the true timing", "[las]") {
  Rng rng(3);
  std::vector<std::vector<float>> patterns(4, std::vector<float>(6));
  for (auto& p : patterns)
    for (auto& v : p) v = rng.uniform(-1.5f, 1.5f);
  LasConfig cfg = toy_config();
  cfg.ctc_weight = 0.5f;
  Rng init(1);
  LAS model(cfg, init);
  Adam adam(model.parameters(), 1e-2f);
  LasTrainExtras extras;
  const int per_symbol = 4;  // input frames per symbol: 2 reduced frames
  for (int step = 0; step < 150; ++step) {
    ToyBatch b = toy_batch(rng, 8, patterns, per_symbol);
    train_step(adam, model.loss(b.input(), extras, &rng, nullptr), 5.0f);
  }
  ToyBatch held = toy_batch(rng, 16, patterns, per_symbol);
  std::vector<CtcAlignment> al = las_ctc_align(model, held.input());
  REQUIRE((int)al.size() == held.B);
  int symbols = 0, near = 0;
  for (int k = 0; k < held.B; ++k) {
    const int n = (int)held.texts[k].size();
    REQUIRE(al[k].possible);
    REQUIRE((int)al[k].first.size() == n);
    std::vector<int> fs = aligned_frame_symbols(al[k], cfg.reduction(), held.frames[k]);
    for (int p = 0; p < n; ++p) {
      CHECK(al[k].first[p] <= al[k].last[p]);
      if (p > 0) CHECK(al[k].last[p - 1] < al[k].first[p]);
      CHECK(al[k].last[p] < (held.frames[k] + 1) / 2);
      CHECK(std::count(fs.begin(), fs.end(), p) > 0);  // every symbol owns input frames
      // the probe's frame for symbol p (the middle of its aligned input frames) inside its true span:
      // input frames 1 + p*per_symbol .. (p+1)*per_symbol (after one silent frame)
      int first = -1, last = -1;
      for (int t = 0; t < (int)fs.size(); ++t)
        if (fs[t] == p) { if (first < 0) first = t; last = t; }
      const int centre = (first + last) / 2;
      ++symbols;
      if (centre >= 1 + p * per_symbol && centre <= (p + 1) * per_symbol) ++near;
    }
  }
  INFO(near << " of " << symbols << " aligned centres inside the true span");
  CHECK(near >= 0.8 * symbols);
  // A model without a CTC head refuses to align, naming its file.
  LasConfig no_ctc = toy_config();
  no_ctc.ctc_weight = 0;
  Rng init2(2);
  LAS plain(no_ctc, init2);
  std::string path = temp_path("no_ctc.safetensors");
  save_trainable(path, plain);
  std::unique_ptr<LAS> loaded = load_las(path);
  CHECK_THROWS_WITH(las_ctc_align(*loaded, held.input()), Catch::Contains(path) && Catch::Contains("without CTC"));
  std::remove(path.c_str());
}
