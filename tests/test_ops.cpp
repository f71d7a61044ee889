// Every op's backward against finite differences.
#include "engine/kernels.h"
#include "engine/ops.h"
#include "engine/optim.h"
#include "gradcheck.h"

using namespace memsig;
using namespace memsig::test;

namespace {
struct Fixture {
  Rng rng{42};
  Var P(std::vector<int64_t> shape, float scale = 1.0f) { return param(random_tensor(std::move(shape), rng, scale)); }
  Tensor R(std::vector<int64_t> shape) { return random_tensor(std::move(shape), rng); }
};
}  // namespace

TEST_CASE_METHOD(Fixture, "matmul gradient", "[ops]") {
  Var a = P({3, 4}), b = P({4, 5});
  Tensor r = R({3, 5});
  check_gradients({a, b}, [&] { return weighted_sum(matmul(a, b), r); });
}

TEST_CASE_METHOD(Fixture, "linear gradient (with and without bias)", "[ops]") {
  Var x = P({4, 3}), W = P({5, 3}), b = P({5});
  Tensor r = R({4, 5});
  check_gradients({x, W, b}, [&] { return weighted_sum(linear(x, W, b), r); });
  check_gradients({x, W}, [&] { return weighted_sum(linear(x, W, nullptr), r); });
}

TEST_CASE_METHOD(Fixture, "add and mul gradients, same shape and row broadcast", "[ops]") {
  Var a = P({3, 4}), b = P({3, 4}), v = P({4});
  Tensor r = R({3, 4});
  check_gradients({a, b}, [&] { return weighted_sum(add(a, b), r); });
  check_gradients({a, v}, [&] { return weighted_sum(add(a, v), r); });
  check_gradients({a, b}, [&] { return weighted_sum(mul(a, b), r); });
  check_gradients({a, v}, [&] { return weighted_sum(mul(a, v), r); });
}

TEST_CASE_METHOD(Fixture, "elementwise nonlinearities", "[ops]") {
  Var x = P({3, 5}, 2.0f);
  Tensor r = R({3, 5});
  check_gradients({x}, [&] { return weighted_sum(tanh(x), r); });
  check_gradients({x}, [&] { return weighted_sum(sigmoid(x), r); });
  // relu: keep inputs away from the kink, where finite differences are meaningless
  for (auto& v : x->value.data) if (std::abs(v) < 0.05f) v = 0.3f;
  check_gradients({x}, [&] { return weighted_sum(relu(x), r); });
}

TEST_CASE("fast tanh, sigmoid and exp match the standard library", "[ops]") {
  for (float v = -30.0f; v <= 30.0f; v += 0.013f) {
    REQUIRE(fast_exp(v) == Approx(std::exp(v)).epsilon(2e-6));
    REQUIRE(std::abs(fast_tanh(v) - std::tanh(v)) < 2e-7f);
    REQUIRE(std::abs(fast_sigmoid(v) - 1.0f / (1.0f + std::exp(-v))) < 2e-7f);
  }
}

TEST_CASE("the vectorised array versions agree with the scalar functions, tails included", "[ops]") {
  for (int n : {1, 7, 8, 9, 37}) {
    std::vector<float> x(n);
    for (int i = 0; i < n; ++i) x[i] = -40.0f + 80.0f * i / n + 0.37f;
    std::vector<float> e = x, s = x, t = x, u(n);
    exp_inplace(e.data(), n);
    sigmoid_inplace(s.data(), n);
    tanh_inplace(t.data(), n);
    tanh_into(x.data(), u.data(), n);
    for (int i = 0; i < n; ++i) {
      REQUIRE(e[i] == Approx(fast_exp(x[i])).epsilon(1e-6));
      REQUIRE(s[i] == Approx(fast_sigmoid(x[i])).margin(1e-7));
      REQUIRE(t[i] == Approx(fast_tanh(x[i])).margin(1e-7));
      REQUIRE(u[i] == t[i]);
    }
  }
}

TEST_CASE_METHOD(Fixture, "embedding gradient, repeated ids accumulate", "[ops]") {
  Var W = P({6, 3});
  std::vector<int32_t> ids{1, 4, 1, 0, 5};
  Tensor r = R({5, 3});
  check_gradients({W}, [&] { return weighted_sum(embedding(W, ids), r); });
}

TEST_CASE_METHOD(Fixture, "concat and split are inverse and differentiable", "[ops]") {
  Var a = P({3, 2}), b = P({3, 4});
  Tensor r = R({3, 6});
  check_gradients({a, b}, [&] { return weighted_sum(concat({a, b}), r); });
  auto parts = split(concat({a, b}), {2, 4});
  REQUIRE(parts[0]->value.data == a->value.data);
  REQUIRE(parts[1]->value.data == b->value.data);
  Tensor r1 = R({3, 1}), r2 = R({3, 5});
  check_gradients({a, b}, [&] {
    auto p = split(concat({a, b}), {1, 5});
    return add(weighted_sum(p[0], r1), weighted_sum(p[1], r2));
  });
}

TEST_CASE_METHOD(Fixture, "row slices and row concatenation", "[ops]") {
  Var a = P({5, 3}), b = P({2, 3});
  Tensor r = R({4, 3});
  check_gradients({a, b}, [&] { return weighted_sum(concat_rows({slice_rows(a, 1, 2), b}), r); });
  REQUIRE(slice_rows(a, 2, 1)->value.data == std::vector<float>(a->value.data.begin() + 6, a->value.data.begin() + 9));
}

TEST_CASE_METHOD(Fixture, "dropout: same mask for the same seed, scaled survivors, exact gradient", "[ops]") {
  Var x = P({4, 50});
  Tensor r = R({4, 50});
  check_gradients({x}, [&] {
    Rng mask_rng(7);  // same mask every evaluation
    return weighted_sum(dropout(x, 0.3f, mask_rng), r);
  });
  Rng mask_rng(7);
  Var y = dropout(x, 0.3f, mask_rng);
  int zeros = 0;
  for (int64_t i = 0; i < x->value.numel(); ++i) {
    if (y->value.data[i] == 0.0f) ++zeros;
    else REQUIRE(y->value.data[i] == Approx(x->value.data[i] / 0.7f));
  }
  REQUIRE(zeros > 30);
  REQUIRE(zeros < 90);
  NoGrad off;
  REQUIRE(dropout(x, 0.3f, mask_rng) == x);  // evaluation: identity
}

TEST_CASE_METHOD(Fixture, "masked softmax cross-entropy: value and gradient", "[ops]") {
  Var z = P({5, 7}, 2.0f);
  std::vector<int32_t> t{0, 3, 6, 2, 2};
  std::vector<float> m{1, 1, 0, 1, 0};
  check_gradients({z}, [&] { return softmax_xent(z, t, m); });
  XentStats st;
  Var loss = softmax_xent(z, t, m, &st);
  double expect = 0;
  for (int r : {0, 1, 3}) {
    double mx = -1e30, s = 0;
    for (int j = 0; j < 7; ++j) mx = std::max(mx, (double)z->value.data[r * 7 + j]);
    for (int j = 0; j < 7; ++j) s += std::exp(z->value.data[r * 7 + j] - mx);
    expect += -(z->value.data[r * 7 + t[r]] - mx - std::log(s));
  }
  REQUIRE(st.count == 3);
  REQUIRE(st.nats == Approx(expect).epsilon(1e-5));
  REQUIRE(loss->value.data[0] == Approx(expect / 3).epsilon(1e-5));
}

TEST_CASE_METHOD(Fixture, "a small graph: shared inputs get both gradient paths", "[ops][autograd]") {
  Var x = P({2, 3}), W = P({3, 3}), b = P({3});
  Tensor r = R({2, 3});
  check_gradients({x, W, b}, [&] {
    Var h = tanh(linear(x, W, b));
    return weighted_sum(mul(h, sigmoid(add(h, x))), r);
  });
}

TEST_CASE("Adam and SGD follow PyTorch's update rules, clipping scales to the max norm", "[optim]") {
  Var p = param(Tensor({2}, 0.0f));
  p->value.data = {1.0f, -2.0f};
  Adam adam({p}, 0.1f);
  double m[2] = {0, 0}, v[2] = {0, 0}, x[2] = {1.0, -2.0};
  for (int t = 1; t <= 3; ++t) {
    p->g().data = {0.5f * t, -0.25f};  // a made-up gradient
    adam.step();
    for (int i = 0; i < 2; ++i) {
      double g = p->grad.data[i];
      m[i] = 0.9 * m[i] + 0.1 * g;
      v[i] = 0.999 * v[i] + 0.001 * g * g;
      double mh = m[i] / (1 - std::pow(0.9, t)), vh = v[i] / (1 - std::pow(0.999, t));
      x[i] -= 0.1 * mh / (std::sqrt(vh) + 1e-8);
      REQUIRE(p->value.data[i] == Approx(x[i]).epsilon(1e-5));
    }
  }
  Var q = param(Tensor({1}, 1.0f));
  Sgd sgd({q}, 0.5f, 0.9f);
  q->g().data = {2.0f};
  sgd.step();  // v = 2, q = 1 - 0.5 * 2 = 0
  sgd.step();  // v = 0.9 * 2 + 2 = 3.8, q = 0 - 1.9
  REQUIRE(q->value.data[0] == Approx(-1.9f));
  Var a = param(Tensor({2}, 0.0f));
  a->g().data = {3.0f, 4.0f};  // norm 5
  REQUIRE(clip_grad_norm({a}, 1.0f) == Approx(5.0f));
  REQUIRE(a->grad.data[0] == Approx(0.6f).epsilon(1e-4));
  REQUIRE(a->grad.data[1] == Approx(0.8f).epsilon(1e-4));
}

TEST_CASE("NaN passes through exp, sigmoid and tanh (scalar and vectorised) without undefined behaviour", "[ops]") {
  std::vector<float> x(11, 0.5f);
  x[3] = NAN;
  x[9] = NAN;  // one in a full vector, one in the scalar tail
  std::vector<float> e = x, s = x, t = x;
  exp_inplace(e.data(), 11);
  sigmoid_inplace(s.data(), 11);
  tanh_inplace(t.data(), 11);
  for (int i : {3, 9}) {
    REQUIRE(std::isnan(e[i]));
    REQUIRE(std::isnan(s[i]));
    REQUIRE(std::isnan(t[i]));
  }
  REQUIRE(e[0] == Approx(std::exp(0.5f)).epsilon(1e-6));  // neighbours unaffected
  REQUIRE(std::isnan(fast_exp(NAN)));
  REQUIRE(std::isnan(fast_tanh(NAN)));
}
