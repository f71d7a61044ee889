#include "probe/states.h"

#include <cmath>
#include <stdexcept>

namespace memsig {

int64_t StateSource::eligible_rows(const std::vector<Segment>& segs) const {
  int64_t n = 0;
  for (auto& s : segs) n += std::max<int64_t>(0, (int64_t)s.size() - 1);  // positions 2..n
  return n;
}

StateSet extract_states(const StateSource& source, const std::vector<Segment>& segs, const StateOptions& opt,
                        const BatchFeatureSource* features, const std::string& split) {
  if (opt.max_lag < 1) throw std::invalid_argument("the largest lag must be at least 1");
  const int L = opt.max_lag;
  auto all = source.entries();
  StateSet out;
  out.max_lag = L;
  out.entries = opt.entries;
  if (out.entries.empty()) for (size_t e = 0; e < all.size(); ++e) out.entries.push_back((int)e);
  for (size_t i = 0; i < out.entries.size(); ++i) {
    int e = out.entries[i];
    if (e < 0 || e >= (int)all.size()) throw std::invalid_argument("entry " + std::to_string(e + 1) + " does not exist (the source has " + std::to_string(all.size()) + ")");
    for (size_t j = 0; j < i; ++j)
      if (out.entries[j] == e) throw std::invalid_argument(all[e].name + " is asked for twice");
    out.names.push_back(all[e].name);
    out.width.push_back(all[e].width);
  }
  out.states.resize(out.entries.size());

  int64_t eligible = source.eligible_rows(segs);
  double keep = (opt.max_positions > 0 && eligible > opt.max_positions) ? (double)opt.max_positions / eligible : 1.0;
  Rng rng(opt.seed);
  for (auto& idx : length_buckets(segs, opt.batch)) {
    Batch b = make_batch(segs, idx);
    if (features) b.features = features->batch(split, idx);
    auto rows = source.run(b, out.entries);
    for (size_t r = 0; r < rows->rows(); ++r) {
      const int t = rows->position[r];
      if (t < 2) continue;  // the lag-1 target, position t-1, must be a character
      if (keep < 1.0 && rng.uniform() >= keep) continue;
      const Segment& s = segs[b.segments[rows->sequence[r]]];  // position i holds c_i = s[i-1]
      for (int d = 1; d <= L; ++d) out.history.push_back(t - d >= 1 ? s[t - d - 1] : -1);
      out.segment.push_back(b.segments[rows->sequence[r]]);
      for (size_t e = 0; e < out.entries.size(); ++e) {
        auto& dst = out.states[e];
        size_t at = dst.size();
        dst.resize(at + out.width[e]);
        rows->copy_row(e, r, dst.data() + at);
        for (size_t j = at; j < dst.size(); ++j)
          if (!std::isfinite(dst[j]))
            throw std::runtime_error(source.describe() + ": " + out.names[e] + " has a non-finite state value (" +
                                     std::to_string(dst[j]) + "): the model's weights are broken");
      }
      ++out.n;
    }
  }
  return out;
}

}  // namespace memsig
