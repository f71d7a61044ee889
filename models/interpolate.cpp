#include "models/interpolate.h"

#include <cmath>
#include <stdexcept>

namespace memsig {

namespace {

// ln p of every target under both models, in the same (batch, row) order.
void target_logps(const LanguageModel& a, const LanguageModel& b, const std::vector<Segment>& segs, int batch_size,
                  std::vector<float>& la, std::vector<float>& lb) {
  TargetScores sa, sb;
  for (auto& idx : length_buckets(segs, batch_size)) {
    Batch batch = make_batch(segs, idx);
    sa.clear();
    sb.clear();
    a.score(batch, sa);
    b.score(batch, sb);
    if (sa.target != sb.target) throw std::logic_error("interpolate: the two models scored different targets");
    la.insert(la.end(), sa.logp.begin(), sa.logp.end());
    lb.insert(lb.end(), sb.logp.begin(), sb.logp.end());
  }
}

// Bits per target of the mixture with weight w on A: -log2(w pA + (1-w) pB), averaged.
double mixed_bpc(const std::vector<float>& la, const std::vector<float>& lb, double w) {
  double nats = 0;
  for (size_t i = 0; i < la.size(); ++i) nats -= std::log(w * std::exp((double)la[i]) + (1 - w) * std::exp((double)lb[i]));
  return la.empty() ? 0.0 : nats / la.size() / std::log(2.0);
}

EvalResult result(double bpc, size_t n) {
  EvalResult r;
  r.bpc = bpc;
  r.perplexity = std::pow(2.0, bpc);
  r.targets = (int64_t)n;
  return r;
}

}  // namespace

Interpolation interpolate(const LanguageModel& a, const LanguageModel& b, const std::vector<Segment>& valid,
                          const std::vector<Segment>& test, int batch_size) {
  std::vector<float> va, vb, ta, tb;
  target_logps(a, b, valid, batch_size, va, vb);
  if (va.empty()) throw std::invalid_argument("interpolate: the validation split is empty");
  Interpolation out;
  out.valid_bpc = INFINITY;
  for (int i = 0; i <= 100; ++i) {
    double w = i / 100.0, bpc = mixed_bpc(va, vb, w);
    if (bpc < out.valid_bpc) { out.valid_bpc = bpc; out.weight = w; }
  }
  target_logps(a, b, test, batch_size, ta, tb);
  out.mixed = result(mixed_bpc(ta, tb, out.weight), ta.size());
  out.a = result(mixed_bpc(ta, tb, 1.0), ta.size());
  out.b = result(mixed_bpc(ta, tb, 0.0), ta.size());
  return out;
}

}  // namespace memsig
