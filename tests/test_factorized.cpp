// The RNN op's low-rank (factorized-kernel) term: it equals the plain layer run with the kernel
// W(λ_t) = W0 + Σ_k λ_tk u_k v_kᵀ formed explicitly step by step; it passes finite-difference
// checks through two stacked layers with sequence lengths; with λ = 0 it is the base kernel.
#include "engine/ops.h"
#include "engine/rnn.h"
#include "gradcheck.h"

using namespace memsig;
using namespace memsig::test;

namespace {

RnnParams random_factorized(Cell cell, int in, int H, int K, Rng& rng) {
  const int G = gate_count(cell);
  RnnParams p{param(random_tensor({G * H, in}, rng, 0.6f)), param(random_tensor({G * H, H}, rng, 0.6f)),
              param(random_tensor({G * H}, rng, 0.5f)), param(random_tensor({G * H}, rng, 0.5f))};
  p.u = param(random_tensor({G * H, K}, rng, 0.7f));
  p.v = param(random_tensor({K, in + H}, rng, 0.7f));
  return p;
}

// Sparse λ for `rows` rows: each basis switched on with probability `density`, weight in (0, 1];
// every `empty_every`-th row has no basis at all.
std::shared_ptr<LambdaRows> random_lambda(int64_t rows, int K, float density, Rng& rng, int empty_every = 4) {
  auto lam = std::make_shared<LambdaRows>();
  lam->K = K;
  for (int64_t r = 0; r < rows; ++r) {
    if (r % empty_every != 1)
      for (int k = 0; k < K; ++k)
        if (rng.uniform(0.0f, 1.0f) < density) {
          lam->index.push_back(k);
          lam->value.push_back(rng.uniform(0.05f, 1.0f));
        }
    lam->row_start.push_back((int)lam->index.size());
  }
  return lam;
}

// W(λ) for one row of λ: [W_ih | W_hh] + U diag(λ) [V_x | V_h], as two plain parameter tensors.
RnnParams formed_kernel(const RnnParams& p, const LambdaRows& lam, int64_t r, int in, int H) {
  const int GH = (int)p.u->value.dim(0), K = (int)p.u->value.dim(1);
  Tensor wih = p.w_ih->value, whh = p.w_hh->value;
  for (int e = lam.row_start[r]; e < lam.row_start[r + 1]; ++e) {
    const int k = lam.index[e];
    for (int i = 0; i < GH; ++i) {
      const float uk = lam.value[e] * p.u->value.data[(size_t)i * K + k];
      for (int j = 0; j < in; ++j) wih.data[(size_t)i * in + j] += uk * p.v->value.data[(size_t)k * (in + H) + j];
      for (int j = 0; j < H; ++j) whh.data[(size_t)i * H + j] += uk * p.v->value.data[(size_t)k * (in + H) + in + j];
    }
  }
  return {constant(wih), constant(whh), constant(p.b_ih->value), constant(p.b_hh->value)};
}

}  // namespace

TEST_CASE("the low-rank term equals the plain layer with W(lambda_t) formed at every step", "[factorized]") {
  for (Cell cell : {Cell::LSTM, Cell::GRU})
    for (int T : {2, 6}) {  // below and above the step count where W_hh is packed and fused
      SECTION(std::string(cell_name(cell)) + " T=" + std::to_string(T)) {
        Rng rng(7);
        const int B = 3, in = 3, H = 5, K = 7;
        RnnParams p = random_factorized(cell, in, H, K, rng);
        Var x = constant(random_tensor({T * B, in}, rng));
        RnnOptions o;
        o.lambda = random_lambda(T * B, K, 0.4f, rng);
        RnnLayerOut out = rnn_layer(cpu_backend(), cell, x, p, T, B, o);
        for (int b = 0; b < B; ++b) {
          std::vector<float> h((size_t)H, 0.0f), c((size_t)H, 0.0f);
          for (int t = 0; t < T; ++t) {
            const int64_t r = (int64_t)t * B + b;
            Tensor xr({1, in});
            std::copy_n(x->value.data.begin() + r * in, in, xr.data.begin());
            Var xt = constant(xr);
            RnnOptions one;
            one.h0 = h.data();
            one.c0 = c.data();
            RnnLayerOut step = rnn_layer(cpu_backend(), cell, xt, formed_kernel(p, *o.lambda, r, in, H), 1, 1, one);
            std::copy_n(step.states->h_at(0), H, h.begin());
            if (has_cell_state(cell)) std::copy_n(step.states->c_at(0), H, c.begin());
            for (int j = 0; j < H; ++j) {
              REQUIRE(out.states->h_at(t)[b * H + j] == Approx(h[j]).margin(1e-5));
              if (has_cell_state(cell)) REQUIRE(out.states->c_at(t)[b * H + j] == Approx(c[j]).margin(1e-5));
            }
          }
        }
      }
    }
}

TEST_CASE("two stacked factorized layers with lengths pass finite-difference checks", "[factorized]") {
  for (Cell cell : {Cell::LSTM, Cell::GRU})
    for (int T : {2, 5}) {
      SECTION(std::string(cell_name(cell)) + " T=" + std::to_string(T)) {
        Rng rng(19);
        const int B = 3, in = 3, H = 4, K = 6;
        RnnParams p1 = random_factorized(cell, in, H, K, rng), p2 = random_factorized(cell, H, H, K, rng);
        Var x = param(random_tensor({T * B, in}, rng));
        Tensor R = random_tensor({T * B, H}, rng);
        RnnOptions o;
        o.lambda = random_lambda(T * B, K, 0.5f, rng, 3);
        o.lengths = {T, 1, T - 1};
        auto loss = [&] {
          Var h = rnn_layer(cpu_backend(), cell, x, p1, T, B, o).h;
          return weighted_sum(rnn_layer(cpu_backend(), cell, h, p2, T, B, o).h, R);
        };
        check_gradients({x, p1.w_ih, p1.w_hh, p1.b_ih, p1.b_hh, p1.u, p1.v, p2.w_ih, p2.w_hh, p2.u, p2.v}, loss);
      }
    }
}

TEST_CASE("with lambda zero everywhere the factorized layer is its base kernel, and U, V get no gradient", "[factorized]") {
  for (Cell cell : {Cell::LSTM, Cell::GRU}) {
    SECTION(cell_name(cell)) {
      Rng rng(23);
      const int T = 5, B = 2, in = 3, H = 4, K = 5;
      RnnParams p = random_factorized(cell, in, H, K, rng);
      Var x = constant(random_tensor({T * B, in}, rng));
      Tensor R = random_tensor({T * B, H}, rng);
      RnnOptions o;
      o.lambda = std::make_shared<LambdaRows>();
      auto zero = std::const_pointer_cast<LambdaRows>(o.lambda);
      zero->K = K;
      zero->row_start.assign(T * B + 1, 0);
      Var a = rnn_layer(cpu_backend(), cell, x, p, T, B, o).h;
      backward(weighted_sum(a, R));
      RnnParams base{p.w_ih, p.w_hh, p.b_ih, p.b_hh};
      Var b = rnn_layer(cpu_backend(), cell, x, base, T, B).h;
      for (int64_t i = 0; i < a->value.numel(); ++i) REQUIRE(a->value.data[i] == Approx(b->value.data[i]).margin(1e-6));
      for (float g : p.u->g().data) REQUIRE(g == 0.0f);
      for (float g : p.v->g().data) REQUIRE(g == 0.0f);
    }
  }
}

TEST_CASE("the low-rank term refuses missing or mismatched lambda", "[factorized]") {
  Rng rng(2);
  RnnParams p = random_factorized(Cell::LSTM, 3, 4, 5, rng);
  Var x = constant(random_tensor({4 * 2, 3}, rng));
  REQUIRE_THROWS_WITH(rnn_layer(cpu_backend(), Cell::LSTM, x, p, 4, 2), Catch::Contains("lambda"));
  RnnOptions o;
  o.lambda = random_lambda(4 * 2, 6, 0.5f, rng);  // K = 6, U has 5 bases
  REQUIRE_THROWS_WITH(rnn_layer(cpu_backend(), Cell::LSTM, x, p, 4, 2, o), Catch::Contains("lambda"));
  o.lambda = random_lambda(3, 5, 0.5f, rng);  // too few rows
  REQUIRE_THROWS_WITH(rnn_layer(cpu_backend(), Cell::LSTM, x, p, 4, 2, o), Catch::Contains("lambda"));
}
