// claims.h — numbers the figure recipes report about signatures, with 95% intervals: the mean
// accuracy over lags of a layer, and differences of such means. Each lag's accuracy comes with its
// bootstrap interval; treating lags and models as independent, the standard error of a mean over
// L lags is sqrt(sum se_d^2) / L with se_d = (hi - lo) / 3.92, and a difference adds variances.
#pragma once
#include <string>

#include "probe/signature.h"

namespace memsig {

struct Estimate {
  double value = 0, se = 0;
  double lo() const { return value - 1.96 * se; }
  double hi() const { return value + 1.96 * se; }
  std::string str(int digits = 3) const;  // "0.512 [0.508, 0.516]"
};

Estimate mean_accuracy(const EntrySignature& layer);  // over its lags
Estimate difference(const Estimate& a, const Estimate& b);  // a - b
Estimate relative_change(const Estimate& from, const Estimate& to);  // (to - from) / from, delta method

}  // namespace memsig
