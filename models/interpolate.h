// interpolate.h — two language models mixed per symbol: p(w | h) = λ p_A(w | h) + (1 - λ) p_B(w | h),
// λ chosen on the validation split (the value of 0, 0.01, ..., 1 with the lowest bits per
// character), then the mixture, A and B each evaluated on the test split.
#pragma once
#include <vector>

#include "models/lm.h"

namespace memsig {

struct Interpolation {
  double weight = 0;             // λ, the weight of A
  EvalResult mixed, a, b;        // on the test split
  double valid_bpc = 0;          // the mixture's on valid, at λ
};

Interpolation interpolate(const LanguageModel& a, const LanguageModel& b, const std::vector<Segment>& valid,
                          const std::vector<Segment>& test, int batch_size = 64);

}  // namespace memsig
