#include "engine/smoothed_xent.h"

#include <cmath>
#include <stdexcept>

namespace memsig {

Var smoothed_xent(const Var& logits, const std::vector<int32_t>& targets, const std::vector<float>& mask, float eps,
                  XentStats* stats) {
  const int64_t n = logits->value.rows(), V = logits->value.cols();
  if ((int64_t)targets.size() != n || (int64_t)mask.size() != n) throw std::invalid_argument("smoothed_xent: targets/mask size");
  if (!(eps >= 0 && eps < 1) || V < 2) throw std::invalid_argument("smoothed_xent: smoothing must be in [0, 1)");
  auto logp = std::make_shared<Tensor>(std::vector<int64_t>{n, V});
  log_softmax_rows(logits->value.ptr(), n, V, logp->ptr());
  const float off = eps / (V - 1);
  double loss = 0, nats = 0, count = 0;
  for (int64_t r = 0; r < n; ++r) {
    if (mask[r] == 0.0f) continue;
    if (targets[r] < 0 || targets[r] >= V) throw std::invalid_argument("smoothed_xent: target out of range");
    const float* lp = logp->ptr() + r * V;
    double row = 0;
    for (int64_t v = 0; v < V; ++v) row -= (v == targets[r] ? 1.0f - eps : off) * lp[v];
    loss += mask[r] * row;
    nats -= mask[r] * lp[targets[r]];
    count += mask[r];
  }
  if (stats) { stats->nats += nats; stats->count += count; }
  const float M = count > 0 ? (float)count : 1.0f;
  return make_result(Tensor({1}, (float)(loss / M)), {logits}, [logits, logp, targets, mask, n, V, M, eps, off](Node& self) {
    const float dL = self.grad.data[0];
    float* dz = logits->g().ptr();
    for (int64_t r = 0; r < n; ++r) {
      if (mask[r] == 0.0f) continue;
      const float w = dL * mask[r] / M;
      const float* lp = logp->ptr() + r * V;
      for (int64_t v = 0; v < V; ++v) dz[r * V + v] += w * (std::exp(lp[v]) - (v == targets[r] ? 1.0f - eps : off));
    }
  });
}

}  // namespace memsig
