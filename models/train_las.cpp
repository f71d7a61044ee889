#include "models/train_las.h"

#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <limits>

#include "corpora/feature_cache.h"
#include "engine/files.h"

namespace memsig {

namespace fs = std::filesystem;

std::string split_dir(const std::string& dir, const std::string& name) {
  std::error_code ec;
  if (!fs::exists(dir, ec)) throw FileError(dir, "no such data directory");
  if (fs::is_directory(fs::path(dir) / name, ec)) return (fs::path(dir) / name).string();
  if (name == "train" && fs::exists(fs::path(dir) / "text", ec)) return dir;
  throw FileError(dir, "has no " + name + "/ data directory (expected the layout of `memsig speech synth`: train/, valid/, test/)");
}

LasSplit load_las_split(const std::string& dir, int mel_bins, const std::vector<double>* mean, const std::vector<double>* stddev,
                        std::vector<double>* mean_out, std::vector<double>* std_out, bool quiet) {
  LasSplit s;
  s.data = read_speech_data(dir);
  FbankOptions fo;
  fo.num_mel_bins = mel_bins;
  std::error_code ec;
  std::string cache = fs::is_directory(dir, ec) ? dir : fs::path(dir).parent_path().string();
  FeatureSet feats = compute_features(s.data, fo, cache, quiet);
  s.skipped = s.data.skipped;
  for (auto& [why, n] : feats.skipped) s.skipped[why] += n;
  if (feats.feats.empty()) throw FileError(dir, "no usable utterance (" + std::to_string(s.data.utts.size()) + " listed)");
  FeatureNorm norm;
  if (mean) {
    norm.mean = *mean;
    norm.stddev = *stddev;
  } else {
    std::vector<const Tensor*> all;
    for (auto& f : feats.feats) all.push_back(&f);
    norm = FeatureNorm::from(all);
  }
  if (mean_out) *mean_out = norm.mean;
  if (std_out) *std_out = norm.stddev;
  s.set = make_speech_set(s.data, feats, &norm);
  return s;
}

LasInput las_input(const SpeechBatch& b) {
  LasInput in;
  in.T = b.T; in.B = b.B; in.D = b.D;
  in.feats = b.feats.data();
  in.frames = b.frames;
  in.text = &b.text;
  return in;
}

SetDecoding decode_set(const LAS& model, const SpeechSet& set, int width, int batch, bool progress, const Fusion* fusion) {
  if (fusion && fusion->lm && width == 1) throw std::invalid_argument("shallow fusion needs beam search (--beam 2 or more)");
  auto t0 = std::chrono::steady_clock::now();
  SetDecoding d;
  d.hyps.resize(set.feats.size());
  auto buckets = frame_buckets(set, width == 1 ? batch : 1);
  size_t done = 0;
  double last = 0;
  for (auto& idx : buckets) {
    SpeechBatch b = make_speech_batch(set, idx);
    LasInput in = las_input(b);
    std::vector<Decoded> out = width == 1 ? greedy_decode(model, in) : std::vector<Decoded>{beam_decode(model, in, width, fusion)};
    for (size_t k = 0; k < idx.size(); ++k) d.hyps[idx[k]] = std::move(out[k]);
    done += idx.size();
    double now = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    if (progress && now - last >= 10) {
      std::fprintf(stderr, "decode  %zu/%zu utterances  %.1f utt/s\n", done, set.feats.size(), done / now);
      last = now;
    }
  }
  for (size_t i = 0; i < set.feats.size(); ++i) d.errors.add(set.texts[i], d.hyps[i].text);
  d.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return d;
}

FusionTuning tune_fusion(const LAS& model, const SpeechSet& set, int width, const Fusion& fusion,
                         const std::vector<float>& weights, const std::vector<float>& bonuses, int max_utterances,
                         bool progress) {
  if (weights.empty() || bonuses.empty()) throw std::invalid_argument("tune_fusion: an empty grid");
  SpeechSet part = set;
  if (max_utterances > 0 && (size_t)max_utterances < set.feats.size()) {
    part.ids.resize(max_utterances);
    part.feats.resize(max_utterances);
    part.texts.resize(max_utterances);
    if (!part.frame_symbol.empty()) part.frame_symbol.resize(max_utterances);
  }
  FusionTuning t;
  t.weights = weights;
  t.bonuses = bonuses;
  double best = std::numeric_limits<double>::infinity();
  for (float w : weights)
    for (float b : bonuses) {
      Fusion f = fusion;
      f.weight = w;
      f.length_bonus = b;
      SetDecoding d = decode_set(model, part, width, 1, false, &f);
      t.cer.push_back(d.errors.cer());
      if (progress)
        std::fprintf(stderr, "fusion  LM weight %g, length bonus %g: CER %.2f%% on %zu utterances (%.0f s)\n", w, b,
                     d.errors.cer(), part.feats.size(), d.seconds);
      if (d.errors.cer() < best) best = d.errors.cer(), t.best_weight = w, t.best_bonus = b;
    }
  return t;
}

namespace {

std::string set_digest(const SpeechSet& s) {
  uint64_t h = 1469598103934665603ull;
  auto mix = [&](uint64_t v) { h = (h ^ v) * 1099511628211ull; };
  for (size_t i = 0; i < s.ids.size(); ++i) {
    for (char c : s.ids[i]) mix((unsigned char)c);
    mix((uint64_t)s.feats[i].rows());
    for (auto c : s.texts[i]) mix(c);
  }
  char buf[20];
  std::snprintf(buf, sizeof buf, "%016llx", (unsigned long long)h);
  return buf;
}

// The utterances of `s` whose index is (or is not) a multiple of `every`.
SpeechSet every_nth(const SpeechSet& s, int every, bool keep_multiples) {
  SpeechSet out;
  out.dim = s.dim;
  for (size_t i = 0; i < s.feats.size(); ++i) {
    if ((i % every == 0) != keep_multiples) continue;
    out.ids.push_back(s.ids[i]);
    out.feats.push_back(s.feats[i]);
    out.texts.push_back(s.texts[i]);
    out.frame_symbol.push_back(s.frame_symbol[i]);
    out.audio_seconds += s.feats[i].rows() * 0.01;
  }
  return out;
}

LasConfig config_for(const LasTrainOptions& opt) {
  if (opt.init_from.empty()) return opt.model;
  return load_las(opt.init_from)->cfg;
}

class LasTask : public TrainTask {
 public:
  explicit LasTask(const LasTrainOptions& opt) : opt_(opt), init_rng_(opt.seed), model_(config_for(opt), init_rng_) {
    if (!opt.init_from.empty()) {
      auto init = load_las(opt.init_from);
      auto src = init->named_parameters();
      auto dst = model_.named_parameters();
      for (size_t i = 0; i < dst.size(); ++i) dst[i].second->value = src[i].second->value;
    }
    const int dim = model_.cfg.feat_dim;
    train_ = load_las_split(split_dir(opt.data, "train"), dim, nullptr, nullptr, &model_.feat_mean, &model_.feat_std, opt.quiet);
    std::error_code ec;
    if (fs::is_directory(fs::path(opt.data) / "valid", ec)) {
      valid_ = load_las_split(split_dir(opt.data, "valid"), dim, &model_.feat_mean, &model_.feat_std, nullptr, nullptr, opt.quiet);
    } else {  // hold out every 10th training utterance
      valid_.set = every_nth(train_.set, 10, true);
      train_.set = every_nth(train_.set, 10, false);
      if (valid_.set.feats.empty() || train_.set.feats.empty())
        throw FileError(opt.data, "too few utterances to hold out a validation tenth");
    }
    buckets_ = frame_buckets(train_.set, opt.batch);
    for (auto& t : train_.set.texts) targets_ += (int64_t)t.size() + 1;
  }
  TrainMetric metric() const override {
    TrainMetric m;
    m.targets = "graphemes";
    m.loss_unit = "bits/grapheme";
    m.valid_name = "valid CER %";
    m.valid_is_bits = false;
    m.diverged_loss = 20;  // attention cross-entropy, bits per output symbol
    m.diverged_valid = std::numeric_limits<double>::infinity();
    m.uniform_hint = "a uniform guess gives 5.09 bits/grapheme";
    m.curve_targets = "graphemes", m.curve_loss = "train_bits_per_grapheme", m.curve_valid = "valid_cer_pct";
    return m;
  }
  Trainable& model() override { return model_; }
  int batches_per_epoch() const override { return (int)buckets_.size(); }
  int64_t targets_per_epoch() const override { return targets_; }
  Var batch_loss(int index, Rng& rng, XentStats& stats) override {
    SpeechBatch b = make_speech_batch(train_.set, buckets_[index], opt_.spec_augment ? &aug_ : nullptr, &rng);
    LasLossStats st;
    Var loss = model_.loss(las_input(b), opt_.extras, &rng, &st);
    stats.nats += st.att.nats;
    stats.count += st.att.count;
    return loss;
  }
  double validate() override { return decode_set(model_, valid_.set, 1, opt_.batch).errors.cer(); }
  std::string describe() const override {
    char line[512];
    std::snprintf(line, sizeof line, "data %s: %zu train utterances (%.2f h), %zu valid; %s, %lld parameters",
                  opt_.data.c_str(), train_.set.feats.size(), train_.set.audio_seconds / 3600, valid_.set.feats.size(),
                  model_.describe().c_str(), (long long)model_.parameter_count());
    return line;
  }
  RunSettings run_settings() const override {
    char buf[64];
    std::snprintf(buf, sizeof buf, "ls%g-ss%g-sa%d", opt_.extras.label_smoothing, opt_.extras.sampling, (int)opt_.spec_augment);
    RunSettings r = {{"run.data_digest", set_digest(train_.set) + set_digest(valid_.set)},
                     {"run.batch", std::to_string(opt_.batch)},
                     {"run.las_training", buf}};
    if (!opt_.init_from.empty()) r["run.init_from"] = opt_.init_from;
    return r;
  }

 private:
  const LasTrainOptions& opt_;
  Rng init_rng_;
  LAS model_;
  LasSplit train_, valid_;
  std::vector<std::vector<int>> buckets_;
  int64_t targets_ = 0;
  SpecAugment aug_;
};

}  // namespace

TrainResult train_las(const LasTrainOptions& opt) {
  LasTask task(opt);
  return train_loop(task, opt);
}

}  // namespace memsig
