// gradcheck.h — compares autograd gradients with central finite differences.
#pragma once
#include <catch2/catch.hpp>
#include <cmath>
#include <functional>
#include <vector>

#include "engine/autograd.h"
#include "engine/rng.h"

namespace memsig::test {

// A fixed random weighting of an op's outputs turns any op into a scalar loss whose gradient
// touches every output element differently.
inline Tensor random_tensor(std::vector<int64_t> shape, Rng& rng, float scale = 1.0f) {
  Tensor t(std::move(shape));
  for (auto& v : t.data) v = scale * rng.uniform(-1.0f, 1.0f);
  return t;
}

// For every element of every input: analytic dL/dx vs (L(x+e) - L(x-e)) / 2e.
inline void check_gradients(const std::vector<Var>& inputs, const std::function<Var()>& loss_fn,
                            float eps = 1e-3f, float atol = 2e-3f, float rtol = 2e-2f) {
  for (auto& x : inputs) x->zero_grad();
  Var loss = loss_fn();
  backward(loss);
  int checked = 0;
  for (size_t k = 0; k < inputs.size(); ++k) {
    Tensor analytic = inputs[k]->g();
    for (int64_t i = 0; i < inputs[k]->value.numel(); ++i) {
      float saved = inputs[k]->value.data[i];
      inputs[k]->value.data[i] = saved + eps;
      double up = loss_fn()->value.data[0];
      inputs[k]->value.data[i] = saved - eps;
      double down = loss_fn()->value.data[0];
      inputs[k]->value.data[i] = saved;
      double numeric = (up - down) / (2.0 * eps);
      INFO("input " << k << " element " << i << ": analytic " << analytic.data[i] << " numeric " << numeric);
      CHECK(std::abs(analytic.data[i] - numeric) <= atol + rtol * std::abs(numeric));
      ++checked;
    }
  }
  REQUIRE(checked > 0);
}

// Loss = sum(y * R) for a fixed random R of y's shape.
inline Var weighted_sum(const Var& y, const Tensor& R);

}  // namespace memsig::test

#include "engine/ops.h"
inline memsig::Var memsig::test::weighted_sum(const Var& y, const Tensor& R) {
  return sum(mul(y, constant(R)));
}
