// batches.h — padded, time-major mini-batches of segments under the evaluation protocol:
// each segment starts from zero state, inputs are <s> c1..cn and targets c1..cn </s>.
// Segments of similar length are grouped (sort by length, cut into batches) so little is padding;
// padded positions have mask 0.
#pragma once
#include <cstdint>
#include <vector>

#include "corpora/symbols.h"
#include "engine/rng.h"

namespace memsig {

struct Batch {
  int T = 0, B = 0;                // steps (longest segment + 1) and sequences
  std::vector<int32_t> inputs;     // [T*B], row t*B + b
  std::vector<int32_t> targets;    // [T*B]
  std::vector<float> mask;         // [T*B], 1 where the target is real
  std::vector<int> lengths;        // per sequence: n + 1 real steps
  std::vector<int> segments;       // index of each sequence's segment in the source list
  int64_t n_targets = 0;
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
