// The speech-model ops (engine/seq_ops.h, bidirectional.h, lstm_step.h, ctc.h): finite-difference
// gradients, and values against direct computations (reversal within lengths, pairing, a
// bidirectional layer equal to two one-way layers by hand, the one-step LSTM equal to the RNN op,
// CTC equal to the sum over all alignments enumerated). The CTC comparison with PyTorch's
// ctc_loss is the hidden case "[.ctc_torch]", driven by tests/ctc_torch.sh.
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <functional>

#include "engine/bidirectional.h"
#include "engine/ctc.h"
#include "engine/lstm_step.h"
#include "engine/ops.h"
#include "engine/seq_ops.h"
#include "engine/smoothed_xent.h"
#include "gradcheck.h"

using namespace memsig;
using namespace memsig::test;

namespace {
RnnParams random_lstm(int in, int H, Rng& rng) {
  return {param(random_tensor({4 * H, in}, rng, 0.6f)), param(random_tensor({4 * H, H}, rng, 0.6f)),
          param(random_tensor({4 * H}, rng, 0.5f)), param(random_tensor({4 * H}, rng, 0.5f))};
}
}  // namespace

TEST_CASE("gather_rows: values, repeats, zero rows, gradient", "[las_ops]") {
  Rng rng(1);
  Var x = param(random_tensor({4, 3}, rng));
  std::vector<int32_t> idx{2, -1, 0, 2, 3};
  Var y = gather_rows(x, idx);
  REQUIRE(y->value.shape == std::vector<int64_t>{5, 3});
  for (int j = 0; j < 3; ++j) {
    CHECK(y->value.data[j] == x->value.data[6 + j]);
    CHECK(y->value.data[3 + j] == 0.0f);
    CHECK(y->value.data[9 + j] == x->value.data[6 + j]);
  }
  Tensor R = random_tensor({5, 3}, rng);
  check_gradients({x}, [&] { return weighted_sum(gather_rows(x, idx), R); });
  CHECK_THROWS(gather_rows(x, {4}));
}

TEST_CASE("reversal within lengths, and the layout gathers, are what they say", "[las_ops]") {
  const int T = 4, B = 3;
  std::vector<int> len{4, 2, 0};
  auto rev = reverse_within_lengths(T, B, len);
  CHECK(rev[0 * B + 0] == 3 * B + 0);
  CHECK(rev[3 * B + 0] == 0 * B + 0);
  CHECK(rev[0 * B + 1] == 1 * B + 1);
  CHECK(rev[1 * B + 1] == 0 * B + 1);
  CHECK(rev[2 * B + 1] == -1);
  CHECK(rev[0 * B + 2] == -1);
  auto tb = time_to_batch_major(T, B), bt = batch_to_time_major(T, B);
  for (int r = 0; r < T * B; ++r) CHECK(bt[tb[r]] == r);
  CHECK(repeat_rows(2, 3) == std::vector<int32_t>{0, 0, 0, 1, 1, 1});
  CHECK_THROWS(reverse_within_lengths(T, B, {5, 1, 1}));
}

TEST_CASE("pair_frames: pairs of frames side by side, odd T padded with zeros, gradient", "[las_ops]") {
  Rng rng(2);
  const int T = 5, B = 2, F = 3;
  Var x = param(random_tensor({T * B, F}, rng));
  Var y = pair_frames(x, T, B);
  REQUIRE(y->value.shape == std::vector<int64_t>{3 * B, 2 * F});
  for (int t = 0; t < 3; ++t)
    for (int b = 0; b < B; ++b)
      for (int s = 0; s < 2; ++s)
        for (int j = 0; j < F; ++j) {
          float want = 2 * t + s < T ? x->value.data[((2 * t + s) * B + b) * F + j] : 0.0f;
          CHECK(y->value.data[(t * B + b) * 2 * F + s * F + j] == want);
        }
  CHECK(paired_lengths({5, 4, 1, 0}) == std::vector<int>{3, 2, 1, 0});
  Tensor R = random_tensor({3 * B, 2 * F}, rng);
  check_gradients({x}, [&] { return weighted_sum(pair_frames(x, T, B), R); });
}

TEST_CASE("masked_softmax: sums to one over valid steps, zero past them, gradient", "[las_ops]") {
  Rng rng(3);
  const int B = 3, T = 4;
  std::vector<int> len{4, 2, 0};
  Var s = param(random_tensor({B, T}, rng, 2.0f));
  Var a = masked_softmax(s, B, T, len);
  for (int b = 0; b < B; ++b) {
    double sum = 0;
    for (int t = 0; t < T; ++t) {
      if (t >= len[b]) CHECK(a->value.data[b * T + t] == 0.0f);
      sum += a->value.data[b * T + t];
    }
    CHECK(sum == Approx(len[b] ? 1.0 : 0.0).margin(1e-6));
  }
  Tensor R = random_tensor({B, T}, rng);
  check_gradients({s}, [&] { return weighted_sum(masked_softmax(s, B, T, len), R); });
}

TEST_CASE("batched_matmul: each block's product, gradient", "[las_ops]") {
  Rng rng(4);
  const int nb = 3, n = 2, k = 4, m = 3;
  Var a = param(random_tensor({nb * n, k}, rng)), b = param(random_tensor({nb * k, m}, rng));
  Var c = batched_matmul(a, b, nb, n, k, m);
  for (int i = 0; i < nb; ++i)
    for (int r = 0; r < n; ++r)
      for (int j = 0; j < m; ++j) {
        double want = 0;
        for (int q = 0; q < k; ++q) want += a->value.data[(i * n + r) * k + q] * b->value.data[(i * k + q) * m + j];
        CHECK(c->value.data[(i * n + r) * m + j] == Approx(want).margin(1e-5));
      }
  Tensor R = random_tensor({nb * n, m}, rng);
  check_gradients({a, b}, [&] { return weighted_sum(batched_matmul(a, b, nb, n, k, m), R); });
}

TEST_CASE("birnn_layer: the backward half is a one-way layer over each reversed sequence, gradient", "[las_ops]") {
  Rng rng(5);
  const int T = 4, B = 2, F = 3, H = 3;
  std::vector<int> len{4, 3};
  Var x = param(random_tensor({T * B, F}, rng));
  for (int j = 0; j < F; ++j) x->value.data[(3 * B + 1) * F + j] = 0.0f;  // padding of sequence 1
  RnnParams fw = random_lstm(F, H, rng), bw = random_lstm(F, H, rng);
  BiRnnOut out = birnn_layer(cpu_backend(), Cell::LSTM, x, fw, bw, T, B, len);
  REQUIRE(out.h->value.shape == std::vector<int64_t>{T * B, 2 * H});
  // Sequence 1 alone, reversed by hand, through the backward weights.
  Tensor x1({3, F});
  for (int t = 0; t < 3; ++t)
    for (int j = 0; j < F; ++j) x1.data[t * F + j] = x->value.data[((2 - t) * B + 1) * F + j];
  Var h1 = rnn_layer(cpu_backend(), Cell::LSTM, constant(x1), bw, 3, 1).h;
  for (int t = 0; t < 3; ++t)
    for (int u = 0; u < H; ++u) CHECK(out.h->value.data[(t * B + 1) * 2 * H + H + u] == Approx(h1->value.data[(2 - t) * H + u]).margin(1e-6));
  for (int u = 0; u < 2 * H; ++u) CHECK(out.h->value.data[(3 * B + 1) * 2 * H + u] == 0.0f);
  Tensor R = random_tensor({T * B, 2 * H}, rng);
  check_gradients({x, fw.w_ih, bw.w_hh, bw.b_ih},
                  [&] { return weighted_sum(birnn_layer(cpu_backend(), Cell::LSTM, x, fw, bw, T, B, len).h, R); });
}

TEST_CASE("lstm_step: equals the RNN op step by step, gradients reach h0, c0 and every weight", "[las_ops]") {
  Rng rng(6);
  const int B = 2, in = 3, H = 4, T = 3;
  RnnParams p = random_lstm(in, H, rng);
  Var x = param(random_tensor({T * B, in}, rng));
  Var hc0 = param(random_tensor({B, 2 * H}, rng));
  // The RNN op from the same initial state.
  Tensor h0({B, H}), c0({B, H});
  for (int b = 0; b < B; ++b)
    for (int u = 0; u < H; ++u) {
      h0.data[b * H + u] = hc0->value.data[b * 2 * H + u];
      c0.data[b * H + u] = hc0->value.data[b * 2 * H + H + u];
    }
  RnnOptions opt;
  opt.h0 = h0.ptr(); opt.c0 = c0.ptr();
  RnnLayerOut ref = rnn_layer(cpu_backend(), Cell::LSTM, x, p, T, B, opt);
  Var hc = hc0;
  for (int t = 0; t < T; ++t) {
    hc = lstm_step(slice_rows(x, t * B, B), hc, p);
    for (int b = 0; b < B; ++b)
      for (int u = 0; u < H; ++u) {
        CHECK(hc->value.data[b * 2 * H + u] == Approx(ref.states->h_at(t)[b * H + u]).margin(1e-5));
        CHECK(hc->value.data[b * 2 * H + H + u] == Approx(ref.states->c_at(t)[b * H + u]).margin(1e-5));
      }
  }
  Tensor R = random_tensor({B, 2 * H}, rng);
  check_gradients({x, hc0, p.w_ih, p.w_hh, p.b_ih, p.b_hh}, [&] {
    Var s = hc0;
    for (int t = 0; t < T; ++t) s = lstm_step(slice_rows(x, t * B, B), s, p);
    return weighted_sum(s, R);  // the final h and c both weigh in
  });
}

namespace {
// -log p(y|x) by enumerating every path of length Tb over V symbols (tiny sizes only).
double ctc_brute_force(const std::vector<float>& logits, int T, int B, int V, int b, int Tb, const std::vector<int32_t>& y,
                       int blank) {
  std::vector<double> lp((size_t)Tb * V);
  for (int t = 0; t < Tb; ++t) {
    const float* z = logits.data() + ((size_t)t * B + b) * V;
    double mx = z[0], s = 0;
    for (int v = 1; v < V; ++v) mx = std::max<double>(mx, z[v]);
    for (int v = 0; v < V; ++v) s += std::exp(z[v] - mx);
    for (int v = 0; v < V; ++v) lp[(size_t)t * V + v] = z[v] - mx - std::log(s);
  }
  double p = 0;
  std::vector<int> path(Tb, 0);
  for (;;) {
    std::vector<int32_t> collapsed;
    for (int t = 0; t < Tb; ++t)
      if (path[t] != blank && (t == 0 || path[t] != path[t - 1])) collapsed.push_back(path[t]);
    if (collapsed == y) {
      double l = 0;
      for (int t = 0; t < Tb; ++t) l += lp[(size_t)t * V + path[t]];
      p += std::exp(l);
    }
    int t = 0;
    while (t < Tb && ++path[t] == V) path[t++] = 0;
    if (t == Tb) break;
  }
  return -std::log(p);
}
}  // namespace

TEST_CASE("ctc_loss: equals the sum over all alignments, impossible sequences add nothing, gradient", "[las_ops]") {
  Rng rng(7);
  const int T = 5, B = 3, V = 4, blank = 0;
  std::vector<int> len{5, 4, 2};
  std::vector<std::vector<int32_t>> y{{1, 2, 2}, {3, 1}, {1, 1}};  // the last cannot fit in 2 frames (needs 3)
  Var z = param(random_tensor({T * B, V}, rng, 2.0f));
  CtcStats st;
  Var loss = ctc_loss(z, T, B, len, y, blank, 1.0f, &st);
  double want = ctc_brute_force(z->value.data, T, B, V, 0, 5, y[0], blank) + ctc_brute_force(z->value.data, T, B, V, 1, 4, y[1], blank);
  CHECK(loss->value.data[0] == Approx(want).epsilon(1e-5));
  CHECK(st.impossible == 1);
  check_gradients({z}, [&] { return ctc_loss(z, T, B, len, y, blank, 0.5f); });
  CHECK_THROWS(ctc_loss(z, T, B, len, {{0}, {1}, {1}}, blank));  // a blank among the labels
}

// Driven by tests/ctc_torch.sh: reads random inputs and PyTorch's loss and gradient from
// $MEMSIG_CTC_REF (text: T B V blank; lengths; label counts; labels; logits; loss; gradient).
TEST_CASE("ctc_loss agrees with torch.nn.functional.ctc_loss", "[.ctc_torch]") {
  const char* path = std::getenv("MEMSIG_CTC_REF");
  REQUIRE(path != nullptr);
  std::ifstream in(path);
  REQUIRE(in.good());
  int cases = 0;
  int T, B, V, blank;
  while (in >> T >> B >> V >> blank) {
    std::vector<int> len(B);
    for (auto& l : len) in >> l;
    std::vector<std::vector<int32_t>> y(B);
    for (auto& l : y) { int n; in >> n; l.resize(n); }
    for (auto& l : y) for (auto& v : l) in >> v;
    Tensor z({(int64_t)T * B, V});
    for (auto& v : z.data) in >> v;
    double ref_loss;
    in >> ref_loss;
    std::vector<double> ref_grad((size_t)T * B * V);
    for (auto& v : ref_grad) in >> v;
    REQUIRE(in.good());
    Var zv = param(z);
    Var loss = ctc_loss(zv, T, B, len, y, blank);
    backward(loss);
    INFO("case " << cases << ": T " << T << " B " << B << " V " << V);
    CHECK(loss->value.data[0] == Approx(ref_loss).epsilon(1e-5));
    double worst = 0;
    for (size_t i = 0; i < ref_grad.size(); ++i) worst = std::max(worst, std::abs(zv->g().data[i] - ref_grad[i]));
    CHECK(worst < 1e-4);
    ++cases;
  }
  REQUIRE(cases > 0);
}

TEST_CASE("smoothed_xent: equals softmax_xent at 0, the smoothed sum by hand, gradient", "[las_ops]") {
  Rng rng(8);
  const int n = 4, V = 5;
  Var z = param(random_tensor({n, V}, rng, 2.0f));
  std::vector<int32_t> t{1, 0, 4, 2};
  std::vector<float> m{1, 1, 0, 1};
  CHECK(smoothed_xent(z, t, m, 0.0f)->value.data[0] == Approx(softmax_xent(z, t, m)->value.data[0]).epsilon(1e-6));
  const float eps = 0.2f;
  double want = 0;
  std::vector<float> lp(n * V);
  log_softmax_rows(z->value.ptr(), n, V, lp.data());
  for (int r = 0; r < n; ++r)
    if (m[r] > 0)
      for (int v = 0; v < V; ++v) want -= (v == t[r] ? 1 - eps : eps / (V - 1)) * lp[r * V + v];
  XentStats st;
  CHECK(smoothed_xent(z, t, m, eps, &st)->value.data[0] == Approx(want / 3).epsilon(1e-5));
  CHECK(st.count == 3);
  check_gradients({z}, [&] { return smoothed_xent(z, t, m, eps); });
}

TEST_CASE("conv_over_time: each filter slid over each sequence with zero padding, gradient", "[las_ops]") {
  Rng rng(8);
  const int B = 2, T = 5, K = 3, r = 3;
  Var a = param(random_tensor({B, T}, rng, 1.0f));
  Var F = param(random_tensor({K, r}, rng, 1.0f));
  Var f = conv_over_time(a, F, B, T);
  REQUIRE(f->value.shape == std::vector<int64_t>{B * T, K});
  for (int b = 0; b < B; ++b)
    for (int t = 0; t < T; ++t)
      for (int k = 0; k < K; ++k) {  // f_{b,t,k} = F_{k,0} a_{t-1} + F_{k,1} a_t + F_{k,2} a_{t+1}
        double want = 0;
        for (int j = 0; j < r; ++j) {
          int s = t + j - 1;
          if (s >= 0 && s < T) want += F->value.data[k * r + j] * a->value.data[b * T + s];
        }
        CHECK(f->value.data[(b * T + t) * K + k] == Approx(want).margin(1e-6));
      }
  Tensor R = random_tensor({B * T, K}, rng);
  check_gradients({a, F}, [&] { return weighted_sum(conv_over_time(a, F, B, T), R); });
  Var wide = param(random_tensor({2, 7}, rng, 1.0f));  // wider than the sequence
  Tensor R2 = random_tensor({B * T, 2}, rng);
  check_gradients({a, wide}, [&] { return weighted_sum(conv_over_time(a, wide, B, T), R2); });
  CHECK_THROWS_WITH(conv_over_time(a, param(random_tensor({2, 4}, rng)), B, T), Catch::Contains("r odd"));
}
