#include "corpora/speech_batches.h"

#include <algorithm>
#include <numeric>
#include <stdexcept>

namespace memsig {

SpeechSet make_speech_set(const SpeechData& data, const FeatureSet& features, const FeatureNorm* norm) {
  SpeechSet s;
  s.dim = features.options.dim();
  s.audio_seconds = features.audio_seconds;
  for (size_t k = 0; k < features.utt.size(); ++k) {
    const Utterance& u = data.utts.at(features.utt[k]);
    Tensor f = features.feats[k];
    if (norm) norm->apply(f);
    double shift = features.options.frame_shift_ms / 1000.0, win = features.options.frame_length_ms / 1000.0;
    s.frame_symbol.push_back(frame_symbols(u, (int)f.rows(), shift, win));
    s.ids.push_back(u.id);
    s.texts.push_back(u.text);
    s.feats.push_back(std::move(f));
  }
  return s;
}

std::vector<std::vector<int>> frame_buckets(const SpeechSet& set, int batch_size) {
  if (batch_size < 1) throw std::invalid_argument("batch size must be at least 1");
  std::vector<int> order(set.feats.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](int a, int b) { return set.feats[a].rows() < set.feats[b].rows(); });
  std::vector<std::vector<int>> out;
  for (size_t i = 0; i < order.size(); i += batch_size)
    out.emplace_back(order.begin() + i, order.begin() + std::min(order.size(), i + (size_t)batch_size));
  return out;
}

SpeechBatch make_speech_batch(const SpeechSet& set, const std::vector<int>& indices, const SpecAugment* aug, Rng* rng) {
  SpeechBatch b;
  b.B = (int)indices.size();
  b.D = set.dim;
  b.utterances = indices;
  for (int i : indices) b.T = std::max(b.T, (int)set.feats[i].rows());
  b.feats.assign((size_t)b.T * b.B * b.D, 0.0f);
  b.frame_symbol.assign((size_t)b.T * b.B, -1);
  b.frame_symbol_id.assign((size_t)b.T * b.B, -1);
  std::vector<float> tmp;
  for (int k = 0; k < b.B; ++k) {
    const Tensor& f = set.feats[indices[k]];
    const int n = (int)f.rows();
    const float* src = f.ptr();
    if (aug && rng) {
      tmp.assign(f.data.begin(), f.data.end());
      aug->apply(tmp.data(), n, b.D, *rng);
      src = tmp.data();
    }
    for (int t = 0; t < n; ++t) {
      std::copy(src + (size_t)t * b.D, src + (size_t)(t + 1) * b.D, b.feats.begin() + ((size_t)t * b.B + k) * b.D);
      int sym = set.frame_symbol[indices[k]][t];
      b.frame_symbol[(size_t)t * b.B + k] = sym;
      b.frame_symbol_id[(size_t)t * b.B + k] = sym < 0 ? -1 : set.texts[indices[k]][sym];
    }
    b.frames.push_back(n);
  }
  b.text = make_batch(set.texts, indices);
  return b;
}

}  // namespace memsig
