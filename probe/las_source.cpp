#include "probe/las_source.h"

#include <algorithm>
#include <stdexcept>

#include "corpora/speech_batches.h"
#include "models/las_align.h"
#include "models/train_las.h"

namespace memsig {

namespace {

class LasStateBatch : public StateBatch {
 public:
  std::vector<std::vector<float>> data;  // per chosen entry: [rows, width]
  std::vector<int> width;
  void copy_row(size_t e, size_t r, float* dst) const override {
    std::copy_n(data[e].data() + r * width[e], width[e], dst);
  }
};

class LasSource : public StateSource {
 public:
  explicit LasSource(std::shared_ptr<const LAS> m) : m_(std::move(m)) {}
  std::string describe() const override {
    const LasConfig& c = m_->cfg;
    return "LAS " + std::to_string(c.listener_layers) + "x" + std::to_string(c.listener_hidden) + " BLSTM / " +
           std::to_string(c.speller_layers) + "x" + std::to_string(c.speller_hidden) + " speller";
  }
  std::string state_kind() const override { return "h"; }
  std::vector<StateEntry> entries() const override {
    std::vector<StateEntry> e;
    for (int k = 0; k < m_->cfg.listener_layers; ++k) e.push_back({"listener " + std::to_string(k + 1), m_->cfg.listener_out()});
    e.push_back({"speller query", m_->cfg.speller_hidden});
    return e;
  }
  std::unique_ptr<StateBatch> run(const Batch& b, const std::vector<int>& chosen) const override {
    if (!b.features) throw std::invalid_argument("a LAS model reads speech: give the data as a speech set (--data DIR)");
    const FrameFeatures& f = *b.features;
    NoGrad no_grad;
    LasInput in;
    in.T = f.T; in.B = b.B; in.D = f.D;
    in.feats = f.feats.data();
    in.frames = f.frames;
    in.text = &b;
    ListenerOut lo = m_->listen(in);
    const int L = m_->cfg.listener_layers;
    bool want_query = std::find(chosen.begin(), chosen.end(), L) != chosen.end();
    std::vector<Tensor> queries;  // per step [B, Hs]
    if (want_query) {
      std::vector<Var> state = m_->zero_state(b.B);
      Var ctx = constant(Tensor({b.B, m_->cfg.listener_out()}));
      std::vector<int32_t> prev(b.B);
      for (int i = 0; i < b.T; ++i) {
        for (int k = 0; k < b.B; ++k) prev[k] = b.inputs[(size_t)i * b.B + k];
        LAS::Step s = m_->step(lo, prev, state, ctx);
        state = s.state;
        ctx = s.ctx;
        queries.push_back(s.query->value);
      }
    }
    auto out = std::make_unique<LasStateBatch>();
    for (int e : chosen) out->width.push_back(entries()[e].width);
    out->data.resize(chosen.size());
    for (int k = 0; k < b.B; ++k) {
      const int n = b.lengths[k] - 1;  // symbols c1..cn
      for (int p = 1; p <= n; ++p) {
        int frame = f.symbol_frame[k][p - 1];
        if (frame < 0) continue;
        out->sequence.push_back(k);
        out->position.push_back(p);
        for (size_t c = 0; c < chosen.size(); ++c) {
          const int e = chosen[c];
          auto& dst = out->data[c];
          if (e < L) {
            int u = std::min(frame >> std::min(e, m_->cfg.pyramid), lo.lengths[e][k] - 1);
            const float* row = lo.layers[e]->value.ptr() + ((size_t)u * b.B + k) * m_->cfg.listener_out();
            dst.insert(dst.end(), row, row + m_->cfg.listener_out());
          } else {
            const float* row = queries[p].ptr() + (size_t)k * m_->cfg.speller_hidden;
            dst.insert(dst.end(), row, row + m_->cfg.speller_hidden);
          }
        }
      }
    }
    return out;
  }
  std::unique_ptr<StateSource> untrained_control(uint64_t seed) const override {
    Rng rng(seed);
    auto fresh = std::make_shared<LAS>(m_->cfg, rng);
    fresh->feat_mean = m_->feat_mean;
    fresh->feat_std = m_->feat_std;
    return std::make_unique<LasSource>(fresh);
  }
  const LanguageModel* language_model() const override { return nullptr; }
  std::string identity() const override {
    std::string id = "las";
    for (auto& [k, v] : m_->file_metadata())
      if (k != "symbols" && k != "feat_mean" && k != "feat_std") id += " " + k + "=" + v;
    return id + " weights " + weights_digest(*m_);
  }

 private:
  std::shared_ptr<const LAS> m_;
};

// The frame at which each symbol is spoken: the middle of the frames labelled with it; a symbol with
// none (a zero-length span) takes the next labelled frame after it, or the last frame.
std::vector<int> symbol_frames(const std::vector<int>& frame_symbol, size_t n_symbols) {
  std::vector<int> first(n_symbols, -1), last(n_symbols, -1), out(n_symbols, -1);
  bool any = false;
  for (int t = 0; t < (int)frame_symbol.size(); ++t) {
    int s = frame_symbol[t];
    if (s < 0 || s >= (int)n_symbols) continue;
    any = true;
    if (first[s] < 0) first[s] = t;
    last[s] = t;
  }
  if (!any) return out;  // no timing
  int next = (int)frame_symbol.size() - 1;
  for (int s = (int)n_symbols - 1; s >= 0; --s) {
    if (first[s] >= 0) {
      out[s] = (first[s] + last[s]) / 2;
      next = first[s];
    } else {
      out[s] = next;
    }
  }
  return out;
}

bool has_timing(const std::vector<int>& frame_symbol) {
  return std::any_of(frame_symbol.begin(), frame_symbol.end(), [](int s) { return s >= 0; });
}

// Synthesis timing where the utterance has it; else the CTC alignment against `model`, computed per
// batch (one listener pass over the batch's utterances that need it).
class SpeechFeatures : public BatchFeatureSource {
 public:
  std::shared_ptr<const LAS> model;
  SpeechSet train, valid, test;
  std::string timing_;
  std::string timing() const override { return timing_; }
  std::shared_ptr<const FrameFeatures> batch(const std::string& split, const std::vector<int>& idx) const override {
    const SpeechSet& s = split == "train" ? train : split == "valid" ? valid : test;
    SpeechBatch b = make_speech_batch(s, idx);
    auto f = std::make_shared<FrameFeatures>();
    f->T = b.T; f->D = b.D;
    f->frames = b.frames;
    std::vector<int> untimed;
    for (int i : idx)
      if (!has_timing(s.frame_symbol[i])) untimed.push_back(i);
    std::vector<std::vector<int>> aligned;  // per untimed utterance, per input frame
    if (!untimed.empty()) {
      SpeechBatch u = make_speech_batch(s, untimed);
      LasInput in;
      in.T = u.T; in.B = u.B; in.D = u.D;
      in.feats = u.feats.data();
      in.frames = u.frames;
      in.text = &u.text;
      std::vector<CtcAlignment> al = las_ctc_align(*model, in);
      for (size_t k = 0; k < untimed.size(); ++k)
        aligned.push_back(aligned_frame_symbols(al[k], model->cfg.reduction(), u.frames[k]));
    }
    f->feats = std::move(b.feats);
    size_t next_untimed = 0;
    for (int i : idx) {
      const std::vector<int>& fs = has_timing(s.frame_symbol[i]) ? s.frame_symbol[i] : aligned[next_untimed++];
      f->symbol_frame.push_back(symbol_frames(fs, s.texts[i].size()));
    }
    return f;
  }
};

}  // namespace

std::unique_ptr<StateSource> las_state_source(std::shared_ptr<const LAS> model) {
  return std::make_unique<LasSource>(std::move(model));
}

Corpus speech_corpus(std::shared_ptr<const LAS> m, const std::string& dir, bool quiet) {
  const LAS& model = *m;
  if (model.feat_mean.empty()) throw std::invalid_argument("the LAS model file has no feature normalisation (feat_mean)");
  auto f = std::make_shared<SpeechFeatures>();
  Corpus c;
  c.name = "speech:" + dir;
  SpeechSet* sets[3] = {&f->train, &f->valid, &f->test};
  std::vector<Segment>* texts[3] = {&c.train, &c.valid, &c.test};
  const char* names[3] = {"train", "valid", "test"};
  for (int i = 0; i < 3; ++i) {
    *sets[i] = load_las_split(split_dir(dir, names[i]), model.cfg.feat_dim, &model.feat_mean, &model.feat_std, nullptr,
                              nullptr, quiet).set;
    *texts[i] = sets[i]->texts;
  }
  int timed = 0, untimed = 0;
  for (SpeechSet* set : sets)
    for (auto& fs : set->frame_symbol) ++(has_timing(fs) ? timed : untimed);
  if (untimed > 0) require_ctc_head(model);  // fail now, not in the middle of the probe
  f->timing_ = untimed == 0 ? "synthesis" : timed == 0 ? "ctc-alignment" : "synthesis+ctc-alignment";
  f->model = std::move(m);
  c.features = f;
  return c;
}

}  // namespace memsig
