// The LSTM and GRU layers: finite-difference gradients through two stacked layers with masking,
// agreement with the same equations composed from elementary ops, and mask independence.
#include "engine/ops.h"
#include "engine/rnn.h"
#include "gradcheck.h"

using namespace memsig;
using namespace memsig::test;

namespace {

struct TinyNet {
  Cell cell;
  int V = 5, E = 3, H = 4, L = 2;
  Var embed, proj_w, proj_b;
  std::vector<RnnParams> layers;
  TinyNet(Cell c, Rng& rng) : cell(c) {
    int G = gate_count(c);
    embed = param(random_tensor({V, E}, rng));
    for (int l = 0; l < L; ++l)
      layers.push_back({param(random_tensor({G * H, l ? H : E}, rng, 0.6f)), param(random_tensor({G * H, H}, rng, 0.6f)),
                        param(random_tensor({G * H}, rng, 0.5f)), param(random_tensor({G * H}, rng, 0.5f))});
    proj_w = param(random_tensor({V, H}, rng));
    proj_b = param(random_tensor({V}, rng));
  }
  std::vector<Var> params() {
    std::vector<Var> p{embed, proj_w, proj_b};
    for (auto& l : layers) for (auto& v : {l.w_ih, l.w_hh, l.b_ih, l.b_hh}) p.push_back(v);
    return p;
  }
  Var loss(const std::vector<int32_t>& ids, const std::vector<int32_t>& tgt, const std::vector<float>& mask, int T, int B) {
    Var x = embedding(embed, ids);
    for (auto& l : layers) x = rnn_layer(cpu_backend(), cell, x, l, T, B).h;
    return softmax_xent(linear(x, proj_w, proj_b), tgt, mask);
  }
};

// One layer's parameters, random, for a cell with G gate blocks.
RnnParams random_params(Cell cell, int in, int H, Rng& rng) {
  int G = gate_count(cell);
  return {param(random_tensor({G * H, in}, rng)), param(random_tensor({G * H, H}, rng)), param(random_tensor({G * H}, rng)),
          param(random_tensor({G * H}, rng))};
}

// One layer written with elementary ops, one step at a time, from PyTorch's nn.LSTM/nn.GRU docs.
Var reference_layer(Cell cell, const Var& x, const RnnParams& p, int T, int B, int H) {
  Var h = constant(Tensor({B, H})), c = constant(Tensor({B, H}));
  std::vector<Var> outs;
  for (int t = 0; t < T; ++t) {
    Var xt = slice_rows(x, (int64_t)t * B, B);
    Var gx = linear(xt, p.w_ih, p.b_ih), gh = linear(h, p.w_hh, p.b_hh);
    if (cell == Cell::LSTM) {
      auto g = split(add(gx, gh), {H, H, H, H});
      Var i = sigmoid(g[0]), f = sigmoid(g[1]), gg = tanh(g[2]), o = sigmoid(g[3]);
      c = add(mul(f, c), mul(i, gg));
      h = mul(o, tanh(c));
    } else {
      auto a = split(gx, {H, H, H}), b = split(gh, {H, H, H});
      Var r = sigmoid(add(a[0], b[0])), z = sigmoid(add(a[1], b[1]));
      Var n = tanh(add(a[2], mul(r, b[2])));
      // h' = (1 - z) n + z h = n + z (h - n)
      Var minus_n = mul(n, constant(Tensor({B, H}, -1.0f)));
      h = add(n, mul(z, add(h, minus_n)));
    }
    outs.push_back(h);
  }
  return concat_rows(outs);
}

}  // namespace

TEST_CASE("two stacked RNN layers with masking pass finite-difference checks", "[rnn]") {
  for (Cell cell : {Cell::LSTM, Cell::GRU}) {
    SECTION(cell_name(cell)) {
      Rng rng(3);
      TinyNet net(cell, rng);
      const int T = 5, B = 3;
      std::vector<int32_t> ids(T * B), tgt(T * B);
      for (auto& v : ids) v = (int32_t)rng.below(net.V);
      for (auto& v : tgt) v = (int32_t)rng.below(net.V);
      std::vector<float> mask(T * B, 1.0f);
      int lengths[B] = {5, 2, 4};  // sequences end early: their tail is padding
      for (int t = 0; t < T; ++t) for (int b = 0; b < B; ++b) if (t >= lengths[b]) mask[t * B + b] = 0.0f;
      check_gradients(net.params(), [&] { return net.loss(ids, tgt, mask, T, B); });
    }
  }
}

TEST_CASE("fused RNN layers equal the step-by-step composition of elementary ops", "[rnn]") {
  for (Cell cell : {Cell::LSTM, Cell::GRU}) {
    SECTION(cell_name(cell)) {
      Rng rng(11);
      const int T = 6, B = 2, in = 3, H = 5;
      RnnParams p = random_params(cell, in, H, rng);
      Var x1 = param(random_tensor({T * B, in}, rng)), x2 = param(x1->value);
      Tensor R = random_tensor({T * B, H}, rng);
      std::vector<Var> ps{p.w_ih, p.w_hh, p.b_ih, p.b_hh};

      Var fused = rnn_layer(cpu_backend(), cell, x1, p, T, B).h;
      backward(weighted_sum(fused, R));
      std::vector<Tensor> fused_grads;
      for (auto& v : ps) { fused_grads.push_back(v->g()); v->zero_grad(); }

      Var ref = reference_layer(cell, x2, p, T, B, H);
      backward(weighted_sum(ref, R));
      for (int64_t i = 0; i < fused->value.numel(); ++i) REQUIRE(fused->value.data[i] == Approx(ref->value.data[i]).margin(1e-6));
      for (size_t k = 0; k < ps.size(); ++k)
        for (int64_t i = 0; i < ps[k]->value.numel(); ++i)
          REQUIRE(fused_grads[k].data[i] == Approx(ps[k]->g().data[i]).margin(1e-5));
      for (int64_t i = 0; i < x1->value.numel(); ++i) REQUIRE(x1->g().data[i] == Approx(x2->g().data[i]).margin(1e-5));
    }
  }
}

TEST_CASE("padding after a sequence's end changes neither loss nor gradients", "[rnn]") {
  Rng rng(5);
  TinyNet net(Cell::LSTM, rng);
  const int T = 4, B = 2;
  std::vector<int32_t> ids{1, 2, 3, 4, 0, 0, 2, 0}, tgt{2, 3, 4, 1, 1, 1, 1, 1};
  std::vector<float> mask{1, 1, 1, 1, 1, 0, 1, 0};  // sequence 1 has length 2
  auto run = [&] {
    for (auto& p : net.params()) p->zero_grad();
    Var l = net.loss(ids, tgt, mask, T, B);
    backward(l);
    std::vector<float> all{l->value.data[0]};
    for (auto& p : net.params()) all.insert(all.end(), p->g().data.begin(), p->g().data.end());
    return all;
  };
  auto a = run();
  ids[5] = 4; ids[7] = 3; tgt[5] = 0; tgt[7] = 2;  // change only padded positions
  auto b = run();
  REQUIRE(a == b);
}

TEST_CASE("a conditioning input joins the gate pre-activations, with its gradient", "[rnn]") {
  for (Cell cell : {Cell::LSTM, Cell::GRU}) {
    SECTION(cell_name(cell)) {
      Rng rng(21);
      const int T = 4, B = 2, in = 3, H = 3, G = gate_count(cell);
      RnnParams p = random_params(cell, in, H, rng);
      Var x = param(random_tensor({T * B, in}, rng));
      Var cond = param(random_tensor({T * B, G * H}, rng));
      Tensor R = random_tensor({T * B, H}, rng);
      RnnOptions o;
      o.cond = cond;
      check_gradients({x, cond, p.w_ih, p.w_hh, p.b_ih},
                      [&] { return weighted_sum(rnn_layer(cpu_backend(), cell, x, p, T, B, o).h, R); });
      // The same vector u at every step is a second input bias: u added to b_ih.
      Tensor u = random_tensor({G * H}, rng);
      Tensor rows({T * B, G * H});
      for (int r = 0; r < T * B; ++r) std::copy(u.data.begin(), u.data.end(), rows.data.begin() + (size_t)r * G * H);
      o.cond = constant(rows);
      Var with_cond = rnn_layer(cpu_backend(), cell, x, p, T, B, o).h;
      RnnParams q = p;
      Tensor b = p.b_ih->value;
      for (int j = 0; j < G * H; ++j) b.data[j] += u.data[j];
      q.b_ih = param(b);
      Var with_bias = rnn_layer(cpu_backend(), cell, x, q, T, B).h;
      for (int64_t i = 0; i < with_cond->value.numel(); ++i)
        REQUIRE(with_cond->value.data[i] == Approx(with_bias->value.data[i]).margin(1e-6));
    }
  }
}

TEST_CASE("per-sequence lengths hold the state past the end, zero its outputs, and pass gradient checks", "[rnn]") {
  for (Cell cell : {Cell::LSTM, Cell::GRU}) {
    SECTION(cell_name(cell)) {
      Rng rng(33);
      const int T = 5, B = 3, in = 2, H = 3;
      RnnParams p = random_params(cell, in, H, rng);
      Var x = param(random_tensor({T * B, in}, rng));
      Tensor R = random_tensor({T * B, H}, rng);
      RnnOptions o;
      o.lengths = {5, 2, 0};
      check_gradients({x, p.w_ih, p.w_hh, p.b_ih, p.b_hh},
                      [&] { return weighted_sum(rnn_layer(cpu_backend(), cell, x, p, T, B, o).h, R); });
      RnnLayerOut out = rnn_layer(cpu_backend(), cell, x, p, T, B, o);
      // Sequence 1 alone, 2 steps long, gives the same states; after them the state is held.
      Tensor x1({2, in});
      for (int t = 0; t < 2; ++t)
        for (int j = 0; j < in; ++j) x1.data[t * in + j] = x->value.data[((size_t)t * B + 1) * in + j];
      RnnLayerOut alone = rnn_layer(cpu_backend(), cell, constant(x1), p, 2, 1);
      for (int t = 0; t < T; ++t)
        for (int j = 0; j < H; ++j) {
          float expect = alone.states->h_at(std::min(t, 1))[j];
          REQUIRE(out.states->h_at(t)[H + j] == Approx(expect).margin(1e-6));
          float y = out.h->value.data[((size_t)t * B + 1) * H + j];
          if (t < 2) REQUIRE(y == Approx(expect).margin(1e-6));
          else REQUIRE(y == 0.0f);
          REQUIRE(out.states->h_at(t)[2 * H + j] == 0.0f);  // length 0: the zero initial state throughout
        }
    }
  }
}
