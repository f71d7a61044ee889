#include "probe/perfect_memory.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>
#include <string>

namespace memsig {

namespace {

// A split laid out flat: x holds <s> c1..cn of every segment in turn, t the index of each symbol
// within its segment (capped at kMaxT: the probe only asks whether t >= 2, t >= i for a digit
// i < 10, and t - d >= 1 for a lag d <= kMaxT - 1). The probe visits the flat indices with t >= 2.
constexpr int kMaxT = 65535;
struct Flat {
  std::vector<uint8_t> x;
  std::vector<uint16_t> t;
};

Flat flatten(const std::vector<Segment>& segs, const char* split) {
  Flat f;
  size_t n = 0;
  for (const Segment& s : segs) n += s.size() + 1;
  if (n > std::numeric_limits<uint32_t>::max())
    throw std::invalid_argument(std::string("perfect memory: the ") + split + " split holds over 4G symbols");
  f.x.reserve(n);
  f.t.reserve(n);
  for (const Segment& s : segs) {
    for (size_t i = 0; i <= s.size(); ++i) {
      uint8_t w = i == 0 ? (uint8_t)kBos : s[i - 1];
      if (w >= kNumSymbols)
        throw std::invalid_argument(std::string("perfect memory: the ") + split + " split holds symbol id " + std::to_string(w));
      f.x.push_back(w);
      f.t.push_back((uint16_t)std::min<size_t>(i, kMaxT));
    }
  }
  return f;
}

// Digit i (0 = the current input) of the window at flat index p, read backwards and cut at <s>:
// x_{t-i} + 1 while t - i >= 0, then 0. The window of k inputs is digits 0..k-1, so two positions
// share it exactly when those digits agree (a window cut short never equals a full one).
inline int digit(const Flat& f, uint32_t p, int i) { return i <= f.t[p] ? f.x[p - i] + 1 : 0; }

// The visited positions sorted by their digits 0..K-1, lexicographically (LSD radix sort, one
// stable counting pass a digit): every window of k <= K inputs is then one run of the order.
// lcp[e]: the first digit where entry e differs from entry e-1 (K when all agree), so a run of
// k-windows starts wherever lcp < k.
struct Sorted {
  std::vector<uint32_t> order;
  std::vector<uint8_t> lcp;
  std::vector<uint16_t> t;  // t of each entry, in the order (read in turn, not looked up)
};

Sorted sort_windows(const Flat& f, int K) {
  Sorted s;
  for (uint32_t p = 0; p < (uint32_t)f.x.size(); ++p)
    if (f.t[p] >= 2) s.order.push_back(p);
  std::vector<uint32_t> tmp(s.order.size());
  for (int i = K - 1; i >= 0; --i) {
    size_t start[kNumSymbols + 2] = {0};
    for (uint32_t p : s.order) start[digit(f, p, i) + 1]++;
    for (int b = 1; b <= kNumSymbols + 1; ++b) start[b] += start[b - 1];
    for (uint32_t p : s.order) tmp[start[digit(f, p, i)]++] = p;
    s.order.swap(tmp);
  }
  s.lcp.assign(s.order.size(), 0);
  for (size_t e = 1; e < s.order.size(); ++e) {
    int i = 0;
    while (i < K && digit(f, s.order[e], i) == digit(f, s.order[e - 1], i)) ++i;
    s.lcp[e] = (uint8_t)i;
  }
  s.t.resize(s.order.size());
  for (size_t e = 0; e < s.order.size(); ++e) s.t[e] = f.t[s.order[e]];
  return s;
}

// The end of the run of k-windows that starts at entry i.
size_t run_end(const Sorted& s, size_t i, int k) {
  if (i >= s.order.size()) return i;
  size_t e = i + 1;
  while (e < s.order.size() && s.lcp[e] >= k) ++e;
  return e;
}

// Lexicographic comparison of the k-windows at train position a and test position b.
int compare(const Flat& fa, uint32_t a, const Flat& fb, uint32_t b, int k) {
  for (int i = 0; i < k; ++i) {
    int da = digit(fa, a, i), db = digit(fb, b, i);
    if (da != db) return da < db ? -1 : 1;
  }
  return 0;
}

// x_{t-d} at flat index p, or -1 when t - d < 1 (on <s> or before the segment).
inline int target(const Flat& f, uint32_t p, int d) { return f.t[p] - d >= 1 ? f.x[p - d] : -1; }

}  // namespace

// The readers are never stored. Train and test positions are sorted by window once; then, for each
// k = 1..K, one merge of the two orders finds every test window seen in training, the training
// votes of that window give the reader's answer per lag, and the answer replaces the test
// position's current one (the back-off: reader k-1's answer stays where reader k has none). The
// test positions' current answers, one byte per lag, are the only per-lag memory; lags are taken
// in blocks so that stays under kAnswerBytes.
PerfectMemory perfect_memory(const std::vector<Segment>& train, const std::vector<Segment>& test, int max_k,
                             int max_delta, int lag_block) {
  const int K = max_k, D = max_delta;
  if (K < 1 || K > 10) throw std::invalid_argument("perfect memory: k up to " + std::to_string(K) + " is not in 1..10");
  if (D < 1 || D >= kMaxT) throw std::invalid_argument("perfect memory: the largest lag must be in 1.." + std::to_string(kMaxT - 1));
  const Flat tr = flatten(train, "training"), te = flatten(test, "test");

  // k = 0: the most frequent training target of each lag (ties: the lower symbol id).
  std::vector<int> chance(D + 1, 0);
  {
    std::vector<int64_t> votes((size_t)(D + 1) * kNumSymbols, 0);
    for (uint32_t p = 0; p < (uint32_t)tr.x.size(); ++p)
      for (int d = 1; d <= std::min(D, tr.t[p] - 1); ++d) votes[(size_t)d * kNumSymbols + tr.x[p - d]]++;
    for (int d = 1; d <= D; ++d) {
      const int64_t* v = &votes[(size_t)d * kNumSymbols];
      chance[d] = (int)(std::max_element(v, v + kNumSymbols) - v);
    }
  }
  const Sorted a = sort_windows(tr, K), b = sort_windows(te, K);
  const size_t na = a.order.size(), nb = b.order.size();

  PerfectMemory pm;
  pm.K = K, pm.D = D;
  pm.correct.assign(K + 1, std::vector<int64_t>(D + 1, 0));
  pm.count.assign(D + 1, 0);
  constexpr size_t kAnswerBytes = size_t(16) << 20;
  const int block = lag_block > 0 ? std::min(lag_block, D)
                                  : (int)std::max<size_t>(1, std::min<size_t>(D, kAnswerBytes / std::max<size_t>(nb, 1)));
  std::vector<int8_t> answer;                       // [test entry * L + d - d0]: the current answer
  std::vector<int64_t> votes;                       // [(d - d0) * 34 + y]
  std::vector<int8_t> group_answer;                 // [d - d0]: the reader's answer for one window
  for (int d0 = 1; d0 <= D; d0 += block) {
    const int d1 = std::min(D, d0 + block - 1), L = d1 - d0 + 1;
    answer.assign(nb * L, 0);
    votes.assign((size_t)L * kNumSymbols, 0);
    group_answer.assign(L, -1);
    // The right answers of the current readers, added to correct[k].
    auto tally = [&](int k) {
      for (size_t e = 0; e < nb; ++e) {
        const uint32_t p = b.order[e];
        const int8_t* ans = &answer[e * L];
        for (int d = d0; d <= std::min(d1, b.t[e] - 1); ++d) pm.correct[k][d] += ans[d - d0] == te.x[p - d];
      }
    };
    for (size_t e = 0; e < nb; ++e) {
      const uint32_t p = b.order[e];
      for (int d = d0; d <= d1; ++d) {
        answer[e * L + d - d0] = (int8_t)chance[d];
        if (target(te, p, d) >= 0) pm.count[d]++;
      }
    }
    tally(0);
    for (int k = 1; k <= K; ++k) {
      // [i, i2) and [j, j2): the current train and test runs of one k-window each.
      size_t i = 0, j = 0, i2 = run_end(a, 0, k), j2 = run_end(b, 0, k);
      while (i < na && j < nb) {
        const int c = compare(tr, a.order[i], te, b.order[j], k);
        if (c < 0) {
          i = i2, i2 = run_end(a, i, k);
          continue;
        }
        if (c > 0) {
          j = j2, j2 = run_end(b, j, k);
          continue;
        }
        // The reader's answer per lag: the most frequent x_{t-d} over the window's training
        // positions (ties: the lower id), or -1 where lag d never had a target.
        if (i2 == i + 1) {
          for (int d = d0; d <= d1; ++d) group_answer[d - d0] = (int8_t)target(tr, a.order[i], d);
        } else {
          for (size_t e = i; e < i2; ++e) {
            const uint32_t p = a.order[e];
            if (e + 16 < i2) {  // the positions of a window lie all over the text: fetch ahead
              const uint32_t q = a.order[e + 16];
              __builtin_prefetch(&tr.x[q - std::min<uint32_t>(q, d0)]);
              __builtin_prefetch(&tr.x[q - std::min<uint32_t>(q, d1)]);
            }
            for (int d = d0; d <= std::min(d1, a.t[e] - 1); ++d) votes[(size_t)(d - d0) * kNumSymbols + tr.x[p - d]]++;
          }
          for (int l = 0; l < L; ++l) {
            const int64_t* v = &votes[(size_t)l * kNumSymbols];
            int best = -1;
            for (int y = 0; y < kNumSymbols; ++y)
              if (v[y] > 0 && (best < 0 || v[y] > v[best])) best = y;
            group_answer[l] = (int8_t)best;
          }
          for (size_t e = i; e < i2; ++e) {
            const uint32_t p = a.order[e];
            for (int d = d0; d <= std::min(d1, a.t[e] - 1); ++d) votes[(size_t)(d - d0) * kNumSymbols + tr.x[p - d]] = 0;
          }
        }
        for (size_t e = j; e < j2; ++e)
          for (int l = 0; l < L; ++l)
            if (group_answer[l] >= 0) answer[e * L + l] = group_answer[l];
        i = i2, i2 = run_end(a, i, k);
        j = j2, j2 = run_end(b, j, k);
      }
      tally(k);
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
