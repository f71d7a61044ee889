#include "corpora/batches.h"

#include <algorithm>
#include <numeric>

namespace memsig {

std::vector<std::vector<int>> length_buckets(const std::vector<Segment>& segs, int batch_size) {
  std::vector<int> order(segs.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](int a, int b) { return segs[a].size() < segs[b].size(); });
  std::vector<std::vector<int>> out;
  for (size_t i = 0; i < order.size(); i += batch_size)
    out.emplace_back(order.begin() + i, order.begin() + std::min(order.size(), i + (size_t)batch_size));
  return out;
}

Batch make_batch(const std::vector<Segment>& segs, const std::vector<int>& indices) {
  Batch b;
  b.B = (int)indices.size();
  for (int i : indices) b.T = std::max(b.T, (int)segs[i].size() + 1);
  b.inputs.assign((size_t)b.T * b.B, kEos);
  b.targets.assign((size_t)b.T * b.B, kEos);
  b.mask.assign((size_t)b.T * b.B, 0.0f);
  b.segments = indices;
  for (int k = 0; k < b.B; ++k) {
    const Segment& s = segs[indices[k]];
    int n = (int)s.size();
    for (int t = 0; t <= n; ++t) {
      size_t r = (size_t)t * b.B + k;
      b.inputs[r] = t == 0 ? kBos : s[t - 1];
      b.targets[r] = t == n ? kEos : s[t];
      b.mask[r] = 1.0f;
    }
    b.lengths.push_back(n + 1);
    b.n_targets += n + 1;
  }
  return b;
}

}  // namespace memsig
