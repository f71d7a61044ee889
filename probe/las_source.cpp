#include "probe/las_source.h"

#include <algorithm>
#include <stdexcept>

#include "corpora/speech_batches.h"
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

class SpeechFeatures : public BatchFeatureSource {
 public:
  SpeechSet train, valid, test;
  std::shared_ptr<const FrameFeatures> batch(const std::string& split, const std::vector<int>& idx) const override {
    const SpeechSet& s = split == "train" ? train : split == "valid" ? valid : test;
    SpeechBatch b = make_speech_batch(s, idx);
    auto f = std::make_shared<FrameFeatures>();
    f->T = b.T; f->D = b.D;
    f->feats = std::move(b.feats);
    f->frames = b.frames;
    for (int i : idx) f->symbol_frame.push_back(symbol_frames(s.frame_symbol[i], s.texts[i].size()));
    return f;
  }
};

}  // namespace

std::unique_ptr<StateSource> las_state_source(std::shared_ptr<const LAS> model) {
  return std::make_unique<LasSource>(std::move(model));
}

Corpus speech_corpus(const LAS& model, const std::string& dir, bool quiet) {
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
  c.features = f;
  return c;
}

}  // namespace memsig
