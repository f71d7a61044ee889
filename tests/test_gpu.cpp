// test_gpu.cpp — the cuDNN backend against the CPU backend on the same weights and batches
// (label `gpu`; gpu_main.cpp skips them where no GPU answers). Tolerances: states and outputs
// within 1e-5 of the tensor's largest magnitude, every gradient within 1e-4 of its tensor's
// largest magnitude (elementwise relative error is meaningless for entries near 0), bpc within
// 1e-5 relative; the two backends sum in different orders, so bit equality is not expected.
#include <catch2/catch.hpp>
#include <algorithm>
#include <cmath>
#include <memory>

#include "corpora/batches.h"
#include "engine/device.h"
#include "engine/ops.h"
#include "engine/optim.h"
#include "engine/rnn.h"
#include "gradcheck.h"
#include "models/charlm.h"
#include "models/lm.h"
#include "probe/charlm_source.h"
#include "probe/signature.h"
#include "probe/signature_diff.h"
#include "probe/signature_json.h"

using namespace memsig;
using namespace memsig::test;

namespace {

// max |a - b| <= rel * max(max |b|, floor)
void require_close(const float* a, const float* b, size_t n, double rel, const std::string& what, double floor = 1e-3) {
  REQUIRE(n > 0);
  double worst = 0, scale = floor;
  size_t at = 0;
  for (size_t i = 0; i < n; ++i) {
    scale = std::max(scale, (double)std::abs(b[i]));
    double d = std::abs((double)a[i] - b[i]);
    if (d > worst) worst = d, at = i;
  }
  INFO(what << ": worst difference " << worst << " at " << at << " (gpu " << a[at] << ", cpu " << b[at] << "), scale "
            << scale << ", tolerance " << rel * scale);
  CHECK(worst <= rel * scale);
}

Var copy_param(const Var& v) { return param(v->value); }

struct Stack {  // L layers of one cell, the same weights on both backends
  Cell cell;
  int E, H, L;
  std::vector<RnnParams> cpu, gpu;
  Var x_cpu, x_gpu;
  std::vector<std::vector<float>> h0, c0;
};

Stack make_stack(Cell cell, int L, int T, int B, int E, int H, Rng& rng) {
  Stack s{cell, E, H, L, {}, {}, {}, {}, {}, {}};
  const int G = gate_count(cell);
  for (int l = 0; l < L; ++l) {
    RnnParams p{param(random_tensor({G * H, l ? H : E}, rng, 0.5f)), param(random_tensor({G * H, H}, rng, 0.5f)),
                param(random_tensor({G * H}, rng, 0.5f)), param(random_tensor({G * H}, rng, 0.5f))};
    s.cpu.push_back(p);
    s.gpu.push_back({copy_param(p.w_ih), copy_param(p.w_hh), copy_param(p.b_ih), copy_param(p.b_hh)});
    Tensor h = random_tensor({B, H}, rng), c = random_tensor({B, H}, rng);
    s.h0.push_back(h.data);
    s.c0.push_back(c.data);
  }
  s.x_cpu = param(random_tensor({(int64_t)T * B, E}, rng));
  s.x_gpu = copy_param(s.x_cpu);
  return s;
}

// Runs the stack on one backend; returns the loss sum(top h * R) and every layer's states.
Var run_stack(RnnBackend& be, Stack& s, bool gpu, int T, int B, const std::vector<int>& lengths, const Tensor& R,
              std::vector<std::shared_ptr<const RnnStates>>& states) {
  Var x = gpu ? s.x_gpu : s.x_cpu;
  for (int l = 0; l < s.L; ++l) {
    RnnOptions o;
    o.lengths = lengths;
    o.h0 = s.h0[l].data();
    o.c0 = has_cell_state(s.cell) ? s.c0[l].data() : nullptr;
    RnnLayerOut out = rnn_layer(be, s.cell, x, gpu ? s.gpu[l] : s.cpu[l], T, B, o);
    states.push_back(out.states);
    x = out.h;
  }
  return weighted_sum(x, R);
}

void compare_backends(Cell cell, int L) {
  Rng rng(7 + L);
  const int T = 13, B = 6, E = 5, H = 24;
  Stack s = make_stack(cell, L, T, B, E, H, rng);
  const std::vector<int> lengths{T, 9, 0, T, 1, 4};  // with a zero-length and a one-step sequence
  Tensor R = random_tensor({(int64_t)T * B, H}, rng);
  std::vector<std::shared_ptr<const RnnStates>> st_cpu, st_gpu;
  Var loss_cpu = run_stack(cpu_backend(), s, false, T, B, lengths, R, st_cpu);
  Var loss_gpu = run_stack(cuda_backend(), s, true, T, B, lengths, R, st_gpu);
  for (int l = 0; l < L; ++l) {
    const std::string at = std::string(cell_name(cell)) + " layer " + std::to_string(l + 1) + " of " + std::to_string(L);
    REQUIRE(st_gpu[l]->h.size() == st_cpu[l]->h.size());
    require_close(st_gpu[l]->h.data(), st_cpu[l]->h.data(), st_cpu[l]->h.size(), 1e-5, at + ": h at every step");
    if (has_cell_state(cell)) {
      REQUIRE(st_gpu[l]->c.size() == st_cpu[l]->c.size());
      require_close(st_gpu[l]->c.data(), st_cpu[l]->c.data(), st_cpu[l]->c.size(), 1e-5, at + ": c at every step");
    }
  }
  require_close(loss_gpu->value.ptr(), loss_cpu->value.ptr(), 1, 1e-5, "loss");
  backward(loss_cpu);
  backward(loss_gpu);
  require_close(s.x_gpu->g().ptr(), s.x_cpu->g().ptr(), s.x_cpu->g().numel(), 1e-4, "dL/dx");
  for (int l = 0; l < L; ++l) {
    const std::string at = "layer " + std::to_string(l + 1) + " ";
    require_close(s.gpu[l].w_ih->g().ptr(), s.cpu[l].w_ih->g().ptr(), s.cpu[l].w_ih->g().numel(), 1e-4, at + "dW_ih");
    require_close(s.gpu[l].w_hh->g().ptr(), s.cpu[l].w_hh->g().ptr(), s.cpu[l].w_hh->g().numel(), 1e-4, at + "dW_hh");
    require_close(s.gpu[l].b_ih->g().ptr(), s.cpu[l].b_ih->g().ptr(), s.cpu[l].b_ih->g().numel(), 1e-4, at + "db_ih");
    require_close(s.gpu[l].b_hh->g().ptr(), s.cpu[l].b_hh->g().ptr(), s.cpu[l].b_hh->g().numel(), 1e-4, at + "db_hh");
  }
}

std::vector<Segment> random_segments(int n, int max_len, Rng& rng) {
  std::vector<Segment> out(n);
  for (auto& s : out) {
    s.resize(1 + rng.below(max_len));
    for (auto& c : s) c = (uint8_t)(3 + rng.below(8));  // a few letters, so there is something to learn
  }
  return out;
}

std::shared_ptr<CharLM> make_lm(Cell cell, int layers, int H, RnnBackend& be) {
  Rng rng(11);
  CharLMConfig cfg;
  cfg.cell = cell, cfg.layers = layers, cfg.hidden = H, cfg.embed = 16;
  auto m = std::make_shared<CharLM>(cfg, rng);
  m->backend = &be;
  return m;
}

}  // namespace

TEST_CASE("cuda lstm layers equal the cpu backend: every step's h and c, every gradient (1 and 4 layers, lengths, h0/c0)") {
  compare_backends(Cell::LSTM, 1);
  compare_backends(Cell::LSTM, 4);
}

TEST_CASE("cuda gru layers equal the cpu backend: every step's h, every gradient (1 and 4 layers, lengths, h0)") {
  compare_backends(Cell::GRU, 1);
  compare_backends(Cell::GRU, 4);
}

TEST_CASE("cuda layers without gradients (NoGrad, cuDNN's inference mode) give the training mode's states") {
  for (Cell cell : {Cell::LSTM, Cell::GRU}) {
    Rng rng(3);
    const int T = 20, B = 4, E = 6, H = 32;
    Stack s = make_stack(cell, 1, T, B, E, H, rng);
    RnnOptions o;
    o.lengths = {T, 5, 17, 2};
    RnnLayerOut with_grad = rnn_layer(cuda_backend(), cell, s.x_gpu, s.gpu[0], T, B, o);
    NoGrad no_grad;
    RnnLayerOut without = rnn_layer(cuda_backend(), cell, s.x_gpu, s.gpu[0], T, B, o);
    require_close(without.states->h.data(), with_grad.states->h.data(), with_grad.states->h.size(), 1e-5, "h");
    if (has_cell_state(cell))
      require_close(without.states->c.data(), with_grad.states->c.data(), with_grad.states->c.size(), 1e-5, "c");
  }
}

TEST_CASE("cuda backend refuses a conditioning input, naming it, rather than running other math") {
  Rng rng(5);
  const int T = 3, B = 2, E = 4, H = 8;
  Stack s = make_stack(Cell::GRU, 1, T, B, E, H, rng);
  RnnOptions o;
  o.cond = constant(random_tensor({(int64_t)T * B, 3 * H}, rng));
  REQUIRE_THROWS_WITH(rnn_layer(cuda_backend(), Cell::GRU, s.x_gpu, s.gpu[0], T, B, o),
                      Catch::Contains("conditioning input") && Catch::Contains("--device cpu"));
}

TEST_CASE("cuda char LM: bits per character equal the cpu's within 1e-5 relative (lstm 2x64, gru 1x96)") {
  Rng rng(21);
  std::vector<Segment> segs = random_segments(150, 60, rng);
  for (auto [cell, layers, H] : {std::tuple{Cell::LSTM, 2, 64}, std::tuple{Cell::GRU, 1, 96}}) {
    auto cpu = make_lm(cell, layers, H, cpu_backend());
    auto gpu = make_lm(cell, layers, H, cuda_backend());
    EvalResult a = evaluate(*cpu, segs, 32), b = evaluate(*gpu, segs, 32);
    INFO(cell_name(cell) << ": cpu " << a.bpc << " gpu " << b.bpc);
    REQUIRE(a.targets == b.targets);
    CHECK(std::abs(a.bpc - b.bpc) <= 1e-5 * a.bpc);
  }
}

TEST_CASE("cuda training follows the cpu's loss curve (lstm 1x64, 40 Adam steps)") {
  Rng data_rng(8);
  std::vector<Segment> segs = random_segments(320, 40, data_rng);
  auto buckets = length_buckets(segs, 32);
  auto cpu = make_lm(Cell::LSTM, 1, 64, cpu_backend());
  auto gpu = make_lm(Cell::LSTM, 1, 64, cuda_backend());
  std::vector<Var> pc, pg;
  for (auto& [n, v] : cpu->named_parameters()) pc.push_back(v);
  for (auto& [n, v] : gpu->named_parameters()) pg.push_back(v);
  Adam oc(pc, 5e-3f), og(pg, 5e-3f);
  std::vector<float> lc, lg;
  for (int step = 0; step < 40; ++step) {
    Batch b = make_batch(segs, buckets[step % buckets.size()]);
    lc.push_back(train_step(oc, cpu->loss(b, nullptr), 5.0f));
    lg.push_back(train_step(og, gpu->loss(b, nullptr), 5.0f));
  }
  for (int step = 0; step < 40; ++step) {
    INFO("step " << step << ": cpu " << lc[step] << " gpu " << lg[step]);
    CHECK(std::abs(lc[step] - lg[step]) <= 1e-3f * lc[step]);
  }
  CHECK(lg.back() < 0.9f * lg.front());  // and it learned something
}

TEST_CASE("cuda signature equals the cpu's within its confidence interval (lstm 1x32, cell state, lags 1-3)") {
  Rng rng(31);
  Corpus data;
  data.name = "random letters";
  data.train = random_segments(400, 30, rng);
  data.valid = random_segments(80, 30, rng);
  data.test = random_segments(80, 30, rng);
  SignatureOptions o;
  o.states.max_lag = 3;
  o.max_train_positions = 4000;
  o.max_eval_positions = 1000;
  o.probe.hidden = 16;
  o.probe.max_epochs = 4;
  o.perfect_memory_k = 0;
  o.quiet = true;
  CharLMSource cpu(make_lm(Cell::LSTM, 1, 32, cpu_backend())), gpu(make_lm(Cell::LSTM, 1, 32, cuda_backend()));
  Signature a = compute_signature(cpu, data, o), b = compute_signature(gpu, data, o);
  REQUIRE(a.trained.entries.size() == b.trained.entries.size());
  for (size_t l = 0; l < a.trained.entries.size(); ++l)
    for (size_t d = 0; d < a.trained.entries[l].lags.size(); ++d) {
      const LagResult &x = a.trained.entries[l].lags[d], &y = b.trained.entries[l].lags[d];
      INFO("lag " << x.lag << ": cpu " << x.accuracy << " [" << x.ci_lo << ", " << x.ci_hi << "], gpu " << y.accuracy);
      CHECK(y.accuracy >= x.ci_lo);
      CHECK(y.accuracy <= x.ci_hi);
    }
}
