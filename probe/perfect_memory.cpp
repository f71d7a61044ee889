#include "probe/perfect_memory.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>

namespace memsig {

namespace {

// A split laid out flat: x holds <s> c1..cn of every segment in turn, t the index of each symbol
// within its segment, and `positions` the flat indices the probe visits (t >= 2).
struct Flat {
  std::vector<uint8_t> x;
  std::vector<int32_t> t;
  std::vector<size_t> positions;
};

Flat flatten(const std::vector<Segment>& segs) {
  Flat f;
  for (const Segment& s : segs) {
    for (size_t i = 0; i <= s.size(); ++i) {
      if (i >= 2) f.positions.push_back(f.x.size());
      f.x.push_back(i == 0 ? (uint8_t)kBos : s[i - 1]);
      f.t.push_back((int32_t)i);
    }
  }
  return f;
}

// x_{t-d} at flat index p, or -1 when t - d < 1 (on <s> or before the segment).
int target(const Flat& f, size_t p, int d) { return f.t[p] - d >= 1 ? f.x[p - d] : -1; }

// The window x_{t-k+1} .. x_t at flat index p, cut at <s>, packed as (symbol + 1) in 6 bits each so
// a shorter window never equals a longer one.
uint64_t window_key(const Flat& f, size_t p, int k) {
  int len = std::min(k, f.t[p] + 1);
  uint64_t key = 0;
  for (int i = len - 1; i >= 0; --i) key = key << 6 | (uint64_t)(f.x[p - i] + 1);
  return key;
}

// The trained reader of one k: for each window seen in training (sorted), the most frequent
// x_{t-d} per lag d, or -1 where lag d never had a target with that window.
struct Reader {
  std::vector<uint64_t> windows;
  std::vector<int8_t> answer;  // [window * D + d - 1]
  const int8_t* find(uint64_t w, int D) const {
    auto it = std::lower_bound(windows.begin(), windows.end(), w);
    return it != windows.end() && *it == w ? &answer[(size_t)(it - windows.begin()) * D] : nullptr;
  }
};

Reader train_reader(const Flat& f, int k, int D) {
  std::vector<std::pair<uint64_t, size_t>> seen;  // (window, position)
  seen.reserve(f.positions.size());
  for (size_t p : f.positions) seen.push_back({window_key(f, p, k), p});
  std::sort(seen.begin(), seen.end());
  Reader r;
  std::vector<int64_t> votes(kNumSymbols, 0);
  for (size_t i = 0; i < seen.size();) {
    size_t j = i;
    while (j < seen.size() && seen[j].first == seen[i].first) ++j;
    r.windows.push_back(seen[i].first);
    for (int d = 1; d <= D; ++d) {
      for (size_t e = i; e < j; ++e)
        if (int y = target(f, seen[e].second, d); y >= 0) votes[y]++;
      int best = -1;
      for (int y = 0; y < kNumSymbols; ++y)
        if (votes[y] > 0 && (best < 0 || votes[y] > votes[best])) best = y;
      r.answer.push_back((int8_t)best);
      for (size_t e = i; e < j; ++e)
        if (int y = target(f, seen[e].second, d); y >= 0) votes[y] = 0;
    }
    i = j;
  }
  return r;
}

}  // namespace

PerfectMemory perfect_memory(const std::vector<Segment>& train, const std::vector<Segment>& test, int max_k,
                             int max_delta) {
  const int K = max_k, D = max_delta;
  if (K < 1 || K > 10) throw std::invalid_argument("perfect memory: k up to " + std::to_string(K) + " is not in 1..10");
  if (D < 1) throw std::invalid_argument("perfect memory: the largest lag must be at least 1");
  const Flat tr = flatten(train), te = flatten(test);

  // k = 0: the most frequent training target of each lag.
  std::vector<int> chance(D + 1, 0);
  for (int d = 1; d <= D; ++d) {
    std::vector<int64_t> votes(kNumSymbols, 0);
    for (size_t p : tr.positions)
      if (int y = target(tr, p, d); y >= 0) votes[y]++;
    chance[d] = (int)(std::max_element(votes.begin(), votes.end()) - votes.begin());
  }
  std::vector<Reader> readers(K + 1);
  for (int k = 1; k <= K; ++k) readers[k] = train_reader(tr, k, D);

  PerfectMemory pm;
  pm.K = K, pm.D = D;
  pm.correct.assign(K + 1, std::vector<int64_t>(D + 1, 0));
  pm.count.assign(D + 1, 0);
  std::vector<int> answer(D + 1);
  for (size_t p : te.positions) {
    for (int d = 1; d <= D; ++d) {
      answer[d] = chance[d];
      if (int y = target(te, p, d); y >= 0) {
        pm.count[d]++;
        pm.correct[0][d] += answer[d] == y;
      }
    }
    // The answer of reader k: its own where it saw this window with a lag-d target, else reader k-1's.
    for (int k = 1; k <= K; ++k) {
      const int8_t* a = readers[k].find(window_key(te, p, k), D);
      for (int d = 1; d <= D; ++d) {
        if (a && a[d - 1] >= 0) answer[d] = a[d - 1];
        if (int y = target(te, p, d); y >= 0) pm.correct[k][d] += answer[d] == y;
      }
    }
  }
  pm.accuracy.assign(K + 1, std::vector<double>(D + 1, NAN));
  for (int k = 0; k <= K; ++k)
    for (int d = 1; d <= D; ++d)
      if (pm.count[d] > 0) pm.accuracy[k][d] = (double)pm.correct[k][d] / pm.count[d];
  return pm;
}

std::vector<int> memory_equivalent_k(const PerfectMemory& pm, const std::vector<double>& model_accuracy) {
  if ((int)model_accuracy.size() > pm.D)
    throw std::invalid_argument("perfect memory was measured for " + std::to_string(pm.D) + " lags, not " +
                                std::to_string(model_accuracy.size()));
  std::vector<int> k_of(model_accuracy.size(), 0);
  for (size_t i = 0; i < model_accuracy.size(); ++i) {
    const int d = (int)i + 1;
    for (int k = 1; k <= pm.K && !k_of[i]; ++k)
      if (pm.accuracy[k][d] >= model_accuracy[i]) k_of[i] = k;
  }
  return k_of;
}

}  // namespace memsig
