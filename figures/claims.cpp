#include "figures/claims.h"

#include <cmath>
#include <cstdio>

namespace memsig {

std::string Estimate::str(int digits) const {
  char buf[96];
  std::snprintf(buf, sizeof buf, "%.*f [%.*f, %.*f]", digits, value, digits, lo(), digits, hi());
  return buf;
}

Estimate mean_accuracy(const EntrySignature& layer) {
  Estimate e;
  double var = 0;
  for (auto& r : layer.lags) {
    e.value += r.accuracy;
    double se = (r.ci_hi - r.ci_lo) / 3.92;
    var += se * se;
  }
  const double L = layer.lags.empty() ? 1 : layer.lags.size();
  e.value /= L;
  e.se = std::sqrt(var) / L;
  return e;
}

Estimate difference(const Estimate& a, const Estimate& b) { return {a.value - b.value, std::sqrt(a.se * a.se + b.se * b.se)}; }

Estimate relative_change(const Estimate& from, const Estimate& to) {
  double r = (to.value - from.value) / from.value;
  // d/dto = 1/from, d/dfrom = -to/from^2
  double se = std::sqrt(std::pow(to.se / from.value, 2) + std::pow(to.value * from.se / (from.value * from.value), 2));
  return {r, se};
}

}  // namespace memsig
