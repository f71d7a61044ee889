// ops.h — differentiable operations on Vars. Each op computes its value now and records a closure
// that maps the output gradient to the inputs' gradients. Matrices are row-major [rows, cols].
#pragma once
#include <cstdint>
#include <vector>

#include "engine/autograd.h"
#include "engine/rng.h"

namespace memsig {

Var matmul(const Var& a, const Var& b);                     // [n,k] x [k,m] -> [n,m]
Var linear(const Var& x, const Var& W, const Var& b);       // x W^T + b, W [out,in], b [out] or null
Var add(const Var& a, const Var& b);                        // same shape, or b broadcast over rows
Var mul(const Var& a, const Var& b);                        // same shape, or b broadcast over rows
Var tanh(const Var& x);
Var sigmoid(const Var& x);
Var relu(const Var& x);
Var sum(const Var& x);                                      // scalar sum of all elements
Var embedding(const Var& W, const std::vector<int32_t>& ids);  // rows of W [V,E] -> [n,E]
Var concat(const std::vector<Var>& xs);                     // along columns
std::vector<Var> split(const Var& x, const std::vector<int64_t>& widths);  // along columns
Var slice_rows(const Var& x, int64_t begin, int64_t count);  // rows [begin, begin+count)
Var concat_rows(const std::vector<Var>& xs);                 // stack along rows
// Inverted dropout: zero each element with probability p and scale the rest by 1/(1-p).
// Identity when p == 0 or when gradients are off (evaluation).
Var dropout(const Var& x, float p, Rng& rng);

// Softmax cross-entropy over rows of logits [n,V] with integer targets and a 0/1 mask.
// Value: sum over rows of mask * -log softmax(logits)[target], divided by sum(mask).
// stats (optional) receive the un-normalised sum of nats and the count, for bits per char.
struct XentStats {
  double nats = 0.0;
  double count = 0.0;
};
Var softmax_xent(const Var& logits, const std::vector<int32_t>& targets,
                 const std::vector<float>& mask, XentStats* stats = nullptr);

// Row-wise log-softmax into out (no graph): used by evaluation and sampling.
void log_softmax_rows(const float* logits, int64_t n, int64_t V, float* out);

}  // namespace memsig
