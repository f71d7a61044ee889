// batches.h — padded, time-major mini-batches of segments under the evaluation protocol:
// each segment starts from zero state, inputs are <s> c1..cn and targets c1..cn </s>.
// Segments of similar length are grouped (sort by length, cut into batches) so little is padding;
// padded positions have mask 0.
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "corpora/symbols.h"
#include "engine/rng.h"

namespace memsig {

// What a batch of a corpus with features (speech) carries beside its symbols: frames, time-major
// [T*B*D] (row t*B + b: frame t of sequence b, 0 past its end), each sequence's frame count, and for
// each symbol c_i of sequence b the frame at which it is spoken (symbol_frame[b][i-1], -1 unknown).
struct FrameFeatures {
  int T = 0, D = 0;
  std::vector<float> feats;
  std::vector<int> frames;
  std::vector<std::vector<int>> symbol_frame;
};

// A corpus whose segments have features: the features of the segments `indices` of a split.
class BatchFeatureSource {
 public:
  virtual ~BatchFeatureSource() = default;
  virtual std::shared_ptr<const FrameFeatures> batch(const std::string& split, const std::vector<int>& indices) const = 0;
  // Where the per-frame symbol timing comes from (a signature setting, so caches do not mix timings).
  virtual std::string timing() const { return ""; }
};

struct Batch {
  int T = 0, B = 0;                // steps (longest segment + 1) and sequences
  std::vector<int32_t> inputs;     // [T*B], row t*B + b
  std::vector<int32_t> targets;    // [T*B]
  std::vector<float> mask;         // [T*B], 1 where the target is real
  std::vector<int> lengths;        // per sequence: n + 1 real steps
  std::vector<int> segments;       // index of each sequence's segment in the source list
  // per sequence: the corpus it came from (a mixture's part), where the batch's maker knows it
  // (the trainer, evaluate_corpus); empty = not known (a domain-λ model then uses its selected corpus)
  std::vector<std::string> domains;
  int64_t n_targets = 0;
  std::shared_ptr<const FrameFeatures> features;  // null for text
};

// Groups of segment indices of similar length, at most batch_size each, in ascending length.
std::vector<std::vector<int>> length_buckets(const std::vector<Segment>& segs, int batch_size);
Batch make_batch(const std::vector<Segment>& segs, const std::vector<int>& indices);
// Fisher-Yates shuffle with our Rng (std::shuffle's result differs between standard libraries).
template <class T>
void shuffle(std::vector<T>& v, Rng& rng) {
  for (size_t i = v.size(); i > 1; --i) std::swap(v[i - 1], v[rng.below(i)]);
}

}  // namespace memsig
