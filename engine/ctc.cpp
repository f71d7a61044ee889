#include "engine/ctc.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>
#include <string>

#include "engine/ops.h"

namespace memsig {

namespace {
constexpr double kNegInf = -std::numeric_limits<double>::infinity();
double lse(double a, double b) {
  if (a == kNegInf) return b;
  if (b == kNegInf) return a;
  double m = std::max(a, b);
  return m + std::log(std::exp(a - m) + std::exp(b - m));
}
}  // namespace

Var ctc_loss(const Var& logits, int T, int B, const std::vector<int>& lengths,
             const std::vector<std::vector<int32_t>>& labels, int blank, float scale, CtcStats* stats) {
  const int64_t V = logits->value.cols();
  if (logits->value.rows() != (int64_t)T * B || (int)lengths.size() != B || (int)labels.size() != B)
    throw std::invalid_argument("ctc_loss: logits " + logits->value.shape_str() + ", lengths and labels do not match T*B");
  if (blank < 0 || blank >= V) throw std::invalid_argument("ctc_loss: blank outside the vocabulary");
  Tensor lp({(int64_t)T * B, V});
  log_softmax_rows(logits->value.ptr(), (int64_t)T * B, V, lp.ptr());
  // dz = scale (softmax - posterior), computed now (forward-backward gives both) and applied later.
  auto dz = std::make_shared<Tensor>(std::vector<int64_t>{(int64_t)T * B, V});
  double total = 0;
  int impossible = 0;
  for (int b = 0; b < B; ++b) {
    const int Tb = lengths[b];
    if (Tb < 0 || Tb > T) throw std::invalid_argument("ctc_loss: a sequence length is outside 0..T");
    const auto& y = labels[b];
    for (int32_t v : y)
      if (v < 0 || v >= V || v == blank) throw std::invalid_argument("ctc_loss: a label is the blank or outside the vocabulary");
    const int S = 2 * (int)y.size() + 1;
    auto lab = [&](int s) { return s % 2 == 0 ? blank : y[s / 2]; };
    auto skip_ok = [&](int s) { return s >= 2 && lab(s) != blank && lab(s) != lab(s - 2); };
    auto LP = [&](int t, int s) { return (double)lp[((int64_t)t * B + b) * V + lab(s)]; };
    if (Tb == 0) { ++impossible; continue; }
    std::vector<double> alpha((size_t)Tb * S, kNegInf), beta((size_t)Tb * S, kNegInf);
    alpha[0] = LP(0, 0);
    if (S > 1) alpha[1] = LP(0, 1);
    for (int t = 1; t < Tb; ++t)
      for (int s = 0; s < S; ++s) {
        double a = alpha[(size_t)(t - 1) * S + s];
        if (s >= 1) a = lse(a, alpha[(size_t)(t - 1) * S + s - 1]);
        if (skip_ok(s)) a = lse(a, alpha[(size_t)(t - 1) * S + s - 2]);
        alpha[(size_t)t * S + s] = a == kNegInf ? kNegInf : a + LP(t, s);
      }
    beta[(size_t)(Tb - 1) * S + S - 1] = 0;
    if (S > 1) beta[(size_t)(Tb - 1) * S + S - 2] = 0;
    for (int t = Tb - 2; t >= 0; --t)
      for (int s = 0; s < S; ++s) {
        double v = beta[(size_t)(t + 1) * S + s] + LP(t + 1, s);
        if (s + 1 < S) v = lse(v, beta[(size_t)(t + 1) * S + s + 1] + LP(t + 1, s + 1));
        if (s + 2 < S && skip_ok(s + 2)) v = lse(v, beta[(size_t)(t + 1) * S + s + 2] + LP(t + 1, s + 2));
        beta[(size_t)t * S + s] = v;
      }
    double logp = alpha[(size_t)(Tb - 1) * S + S - 1];
    if (S > 1) logp = lse(logp, alpha[(size_t)(Tb - 1) * S + S - 2]);
    if (!(logp > kNegInf)) { ++impossible; continue; }
    total -= logp;
    for (int t = 0; t < Tb; ++t) {
      float* d = dz->ptr() + ((int64_t)t * B + b) * V;
      const float* l = lp.ptr() + ((int64_t)t * B + b) * V;
      for (int64_t v = 0; v < V; ++v) d[v] = scale * std::exp(l[v]);
      for (int s = 0; s < S; ++s) {
        double a = alpha[(size_t)t * S + s] + beta[(size_t)t * S + s];
        if (a > kNegInf) d[lab(s)] -= scale * (float)std::exp(a - logp);
      }
    }
  }
  if (stats) { stats->nats += total; stats->impossible += impossible; }
  return make_result(Tensor({1}, (float)(scale * total)), {logits}, [logits, dz](Node& self) {
    float g = self.grad.data[0];
    float* d = logits->g().ptr();
    for (int64_t i = 0; i < dz->numel(); ++i) d[i] += g * dz->data[i];
  });
}

}  // namespace memsig

namespace memsig {

CtcAlignment ctc_align(const float* lp, int T, int V, const std::vector<int32_t>& y, int blank) {
  if (T < 0 || V <= 0 || blank < 0 || blank >= V) throw std::invalid_argument("ctc_align: bad frame count, vocabulary or blank");
  for (int32_t v : y)
    if (v < 0 || v >= V || v == blank) throw std::invalid_argument("ctc_align: a label is the blank or outside the vocabulary");
  CtcAlignment out;
  const int U = (int)y.size(), S = 2 * U + 1;
  if (T == 0) {
    out.possible = U == 0;
    return out;
  }
  auto lab = [&](int s) { return s % 2 == 0 ? blank : y[s / 2]; };
  auto skip_ok = [&](int s) { return s >= 2 && lab(s) != blank && lab(s) != lab(s - 2); };
  std::vector<double> delta((size_t)T * S, kNegInf);
  std::vector<int> from((size_t)T * S, -1);  // the state at t-1 on the best path into (t, s)
  delta[0] = lp[blank];
  if (S > 1) delta[1] = lp[lab(1)];
  for (int t = 1; t < T; ++t)
    for (int s = 0; s < S; ++s) {
      const double* prev = &delta[(size_t)(t - 1) * S];
      double best = prev[s];
      int arg = s;
      if (s >= 1 && prev[s - 1] > best) best = prev[s - 1], arg = s - 1;
      if (skip_ok(s) && prev[s - 2] > best) best = prev[s - 2], arg = s - 2;
      if (best == kNegInf) continue;
      delta[(size_t)t * S + s] = best + lp[(size_t)t * V + lab(s)];
      from[(size_t)t * S + s] = arg;
    }
  const double* last_row = &delta[(size_t)(T - 1) * S];
  int s = S - 1;
  if (S > 1 && last_row[S - 2] > last_row[S - 1]) s = S - 2;
  if (last_row[s] == kNegInf) return out;  // the labels do not fit
  out.possible = true;
  out.score = last_row[s];
  out.first.assign(U, -1);
  out.last.assign(U, -1);
  for (int t = T - 1; t >= 0; --t) {
    if (s % 2 == 1) {
      const int u = s / 2;
      if (out.last[u] < 0) out.last[u] = t;
      out.first[u] = t;
    }
    if (t > 0) s = from[(size_t)t * S + s];
  }
  return out;
}

}  // namespace memsig
