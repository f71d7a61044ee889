#include "probe/signature_diff.h"

#include <algorithm>
#include <cmath>
#include <random>
#include <stdexcept>

namespace memsig {

namespace {

// Paired cluster bootstrap of B - A over the test rows both entries were measured on (see signature_diff.h).
void paired_bootstrap(const EntrySignature& ea, const EntrySignature& eb, const TestRows& ta, const TestRows& tb, EntryDiff& d,
                      int resamples, uint64_t seed) {
  if (ta.empty() || ta.rows != tb.rows || ta.lags != tb.lags || ta.targets != tb.targets) return;
  const size_t n = (size_t)ta.rows;
  for (int lag : d.lags)
    if (lag > ta.lags) return;
  for (const EntrySignature* e : {&ea, &eb})
    for (auto& r : e->lags)
      if (r.test_predictions.size() != n) return;  // an entry kept without its answers
  // Clusters: [start, end) row ranges (one row each when the files predate clusters).
  std::vector<std::pair<size_t, size_t>> clusters;
  const std::vector<int32_t>& sizes = ta.clusters.empty() ? tb.clusters : ta.clusters;
  for (size_t at = 0, c = 0; at < n; ++c) {
    size_t len = c < sizes.size() ? (size_t)sizes[c] : 1;
    clusters.push_back({at, std::min(n, at + len)});
    at += len;
  }
  std::vector<size_t> ia, ib;  // each compared lag's column in the two entries
  for (int lag : d.lags) {
    for (size_t i = 0; i < ea.lags.size(); ++i) if (ea.lags[i].lag == lag) ia.push_back(i);
    for (size_t i = 0; i < eb.lags.size(); ++i) if (eb.lags[i].lag == lag) ib.push_back(i);
  }
  const size_t D = d.lags.size(), S = d.symbols.size();
  std::vector<int> col_of(kNumSymbols, -1);
  for (size_t c = 0; c < S; ++c) col_of[d.symbols[c]] = (int)c;
  std::vector<std::vector<double>> acc(D), rec(D * S);
  std::mt19937_64 rng(seed);
  std::uniform_int_distribution<size_t> pick(0, clusters.size() - 1);
  std::vector<int64_t> cnt(D * kNumSymbols), da(D * kNumSymbols);
  for (int r = 0; r < resamples; ++r) {
    std::fill(cnt.begin(), cnt.end(), 0);
    std::fill(da.begin(), da.end(), 0);
    for (size_t k = 0; k < clusters.size(); ++k) {
      auto [from, to] = clusters[pick(rng)];
      for (size_t row = from; row < to; ++row)
        for (size_t j = 0; j < D; ++j) {
          int t = ta.target((int64_t)row, d.lags[j]);
          if (t < 0) continue;
          cnt[j * kNumSymbols + t]++;
          da[j * kNumSymbols + t] += (eb.lags[ib[j]].test_predictions[row] == t) - (ea.lags[ia[j]].test_predictions[row] == t);
        }
    }
    for (size_t j = 0; j < D; ++j) {
      int64_t total = 0, diff = 0;
      for (int t = 0; t < kNumSymbols; ++t) {
        total += cnt[j * kNumSymbols + t];
        diff += da[j * kNumSymbols + t];
        if (col_of[t] >= 0 && cnt[j * kNumSymbols + t] > 0)
          rec[j * S + col_of[t]].push_back((double)da[j * kNumSymbols + t] / cnt[j * kNumSymbols + t]);
      }
      acc[j].push_back(total ? (double)diff / total : 0.0);
    }
  }
  auto interval = [](std::vector<double>& v) {
    std::sort(v.begin(), v.end());
    return std::pair<double, double>{v[(size_t)(0.025 * (v.size() - 1))], v[(size_t)(0.975 * (v.size() - 1))]};
  };
  d.paired = true;
  for (size_t j = 0; j < D; ++j) {
    auto [lo, hi] = interval(acc[j]);
    d.accuracy_diff.push_back(eb.lags[ib[j]].accuracy - ea.lags[ia[j]].accuracy);
    d.accuracy_lo.push_back(lo);
    d.accuracy_hi.push_back(hi);
  }
  // Two-sided bootstrap p-value per cell, then Benjamini-Hochberg at FDR 5% over the cells.
  std::vector<std::pair<double, size_t>> pvals;
  for (size_t c = 0; c < D * S; ++c) {
    if (std::isnan(d.recall_diff[c]) || rec[c].size() < std::max<size_t>(1, (size_t)resamples / 2)) continue;
    double below = 0, above = 0;
    for (double v : rec[c]) { below += v <= 0; above += v >= 0; }
    double p = std::min(1.0, 2 * std::max(1.0, std::min(below, above)) / rec[c].size());
    pvals.push_back({p, c});
  }
  std::sort(pvals.begin(), pvals.end());
  size_t passed = 0;
  for (size_t i = 0; i < pvals.size(); ++i)
    if (pvals[i].first <= 0.05 * (i + 1) / pvals.size()) passed = i + 1;
  d.significant.assign(D * S, 0);
  for (size_t i = 0; i < passed; ++i) d.significant[pvals[i].second] = 1;
}

}  // namespace

std::vector<EntryDiff> diff_signatures(const Signature& a, const Signature& b, int bootstrap, uint64_t seed) {
  std::vector<EntryDiff> out;
  for (auto& ea : a.trained.entries) {
    auto eb_it = std::find_if(b.trained.entries.begin(), b.trained.entries.end(),
                              [&](const EntrySignature& e) { return e.entry == ea.entry; });
    if (eb_it == b.trained.entries.end()) continue;
    const EntrySignature& eb = *eb_it;
    EntryDiff d;
    d.entry = ea.entry;
    auto pa = symbols_present(ea), pb = symbols_present(eb);
    for (int s : pa) if (std::find(pb.begin(), pb.end(), s) != pb.end()) d.symbols.push_back(s);
    double sum_abs = 0, cells = 0, sq = 0;
    for (auto& ra : ea.lags) {
      auto rb_it = std::find_if(eb.lags.begin(), eb.lags.end(), [&](const LagResult& r) { return r.lag == ra.lag; });
      if (rb_it == eb.lags.end()) continue;
      const LagResult& rb = *rb_it;
      d.lags.push_back(ra.lag);
      for (int s : d.symbols) {
        bool enough = ra.count[s] >= kMinRecallCount && rb.count[s] >= kMinRecallCount;
        double v = enough ? rb.recall[s] - ra.recall[s] : NAN;
        d.recall_diff.push_back(v);
        if (!std::isnan(v)) { sum_abs += std::abs(v); cells += 1; }
      }
      double dm = rb.accuracy - ra.accuracy;
      sq += dm * dm;
    }
    if (d.lags.empty()) continue;
    d.mean_abs = cells ? sum_abs / cells : NAN;
    d.marginal_rms = std::sqrt(sq / d.lags.size());
    if (bootstrap > 0) paired_bootstrap(ea, eb, a.trained.test, b.trained.test, d, bootstrap, seed);
    out.push_back(std::move(d));
  }
  if (out.empty()) throw std::invalid_argument("the two signatures share no entry and lag to compare");
  return out;
}

}  // namespace memsig
