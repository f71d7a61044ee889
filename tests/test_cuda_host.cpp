// test_cuda_host.cpp — the parts of the CUDA backend that need no GPU, on every build: the
// weight-space mapping (engine/cuda/cudnn_layout.h), the per-unit math its kernels run
// (engine/cuda/cell_math.h, here on the host against the CPU backend), and choosing a device.
#include <catch2/catch.hpp>
#include <algorithm>
#include <cmath>
#include <numeric>

#include "engine/cuda/cell_math.h"
#include "engine/cuda/cudnn_layout.h"
#include "engine/device.h"
#include "engine/kernels.h"
#include "engine/rnn.h"
#include "gradcheck.h"

using namespace memsig;
using namespace memsig::test;

namespace {

// A layout as cuDNN might report it: the 2G matrices and 2G biases in a shuffled order, with gaps.
CudnnWeightLayout shuffled_layout(Cell cell, int in, int H, Rng& rng) {
  const int G = gate_count(cell);
  CudnnWeightLayout L;
  L.cell = cell, L.in = in, L.hidden = H;
  std::vector<int> order(4 * G);  // 0..2G-1 matrices, 2G..4G-1 biases
  std::iota(order.begin(), order.end(), 0);
  for (size_t i = order.size(); i > 1; --i) std::swap(order[i - 1], order[rng.below(i)]);
  L.matrix.assign(2 * G, 0);
  L.bias.assign(2 * G, 0);
  size_t at = 0;
  for (int id : order) {
    at += rng.below(3);  // a gap
    if (id < 2 * G) {
      L.matrix[id] = at;
      at += (size_t)H * (id < G ? in : H);
    } else {
      L.bias[id - 2 * G] = at;
      at += H;
    }
  }
  L.floats = at;
  return L;
}

}  // namespace

TEST_CASE("cudnn weight layout: PyTorch's gate blocks land on cuDNN's linear layers and come back as gradients") {
  for (Cell cell : {Cell::LSTM, Cell::GRU}) {
    Rng rng(4);
    const int G = gate_count(cell), in = 5, H = 7;
    CudnnWeightLayout L = shuffled_layout(cell, in, H, rng);
    REQUIRE_NOTHROW(check_layout(L));
    Tensor w_ih = random_tensor({G * H, in}, rng), w_hh = random_tensor({G * H, H}, rng);
    Tensor b_ih = random_tensor({G * H}, rng), b_hh = random_tensor({G * H}, rng);
    RnnWeights w{w_ih.ptr(), w_hh.ptr(), b_ih.ptr(), b_hh.ptr(), in, H};
    std::vector<float> space(L.floats, -99.0f);
    pack_weights(L, w, space.data());
    for (int k = 0; k < 2 * G; ++k)  // linear layer k, unit u: W_ih/W_hh row (k mod G)*H + u, bias likewise
      for (int u = 0; u < H; ++u) {
        const int cols = k < G ? in : H, row = (k % G) * H + u;
        const float* src = (k < G ? w_ih.ptr() : w_hh.ptr()) + (size_t)row * cols;
        for (int i = 0; i < cols; ++i) REQUIRE(space[L.matrix[k] + (size_t)u * cols + i] == src[i]);
        REQUIRE(space[L.bias[k] + u] == (k < G ? b_ih : b_hh).data[row]);
      }
    // The weight space read back as a gradient adds exactly the packed values, onto what is there.
    Tensor g_ih({G * H, in}, 1.0f), g_hh({G * H, H}, 1.0f), gb_ih({G * H}, 1.0f), gb_hh({G * H}, 1.0f);
    RnnGrads g{g_ih.ptr(), g_hh.ptr(), gb_ih.ptr(), gb_hh.ptr()};
    add_unpacked_grads(L, space.data(), g);
    for (size_t i = 0; i < w_ih.data.size(); ++i) REQUIRE(g_ih.data[i] == 1.0f + w_ih.data[i]);
    for (size_t i = 0; i < w_hh.data.size(); ++i) REQUIRE(g_hh.data[i] == 1.0f + w_hh.data[i]);
    for (size_t i = 0; i < b_ih.data.size(); ++i) REQUIRE(gb_ih.data[i] == 1.0f + b_ih.data[i]);
    for (size_t i = 0; i < b_hh.data.size(); ++i) REQUIRE(gb_hh.data[i] == 1.0f + b_hh.data[i]);
  }
}

TEST_CASE("cudnn weight layout: overlapping or out-of-range blocks are refused") {
  Rng rng(9);
  CudnnWeightLayout L = shuffled_layout(Cell::GRU, 3, 4, rng);
  CudnnWeightLayout short_space = L;
  short_space.floats -= 1;
  CHECK_THROWS_WITH(check_layout(short_space), Catch::Contains("past the weight space"));
  CudnnWeightLayout overlap = L;
  overlap.bias[1] = overlap.matrix[0] + 1;
  CHECK_THROWS_WITH(check_layout(overlap), Catch::Contains("overlap"));
}

TEST_CASE("cuda kernels' per-unit math, run on the host, gives the cpu backend's every-step h and c") {
  Rng rng(12);
  const int T = 9, B = 4, E = 3, H = 6, G = 4;
  Tensor x = random_tensor({T * B, E}, rng), w_ih = random_tensor({G * H, E}, rng), w_hh = random_tensor({G * H, H}, rng);
  Tensor b_ih = random_tensor({G * H}, rng), b_hh = random_tensor({G * H}, rng);
  Tensor h0 = random_tensor({B, H}, rng), c0 = random_tensor({B, H}, rng);
  const std::vector<int> len{T, 0, 5, 1};
  RnnWeights w{w_ih.ptr(), w_hh.ptr(), b_ih.ptr(), b_hh.ptr(), E, H};
  RnnSequence seq;
  seq.x = x.ptr(), seq.T = T, seq.B = B, seq.lengths = len.data(), seq.h0 = h0.ptr(), seq.c0 = c0.ptr();
  RnnStates cpu;
  cpu_backend().forward(Cell::LSTM, w, seq, cpu);

  // y as cuDNN returns it: h where the sequence is running, 0 past its length.
  std::vector<float> y((size_t)T * B * H);
  for (int t = 0; t < T; ++t)
    for (int b = 0; b < B; ++b)
      for (int j = 0; j < H; ++j) y[((size_t)t * B + b) * H + j] = t < len[b] ? cpu.h_at(t)[b * H + j] : 0.0f;
  std::vector<float> hs((size_t)(T + 1) * B * H);
  for (int b = 0; b < B; ++b)
    for (int j = 0; j < H; ++j) cuda_math::states_from_y_unit(y.data(), h0.ptr(), len.data(), hs.data(), T, B, H, b, j);
  CHECK(hs == cpu.h);  // copies only: exact

  // The cell states from the two GEMMs and the per-unit scan.
  std::vector<float> pre((size_t)T * B * G * H), bias(G * H), cs((size_t)(T + 1) * B * H);
  gemm(false, true, T * B, G * H, E, 1.0f, x.ptr(), w_ih.ptr(), 0.0f, pre.data());
  gemm(false, true, T * B, G * H, H, 1.0f, hs.data(), w_hh.ptr(), 1.0f, pre.data());
  for (int j = 0; j < G * H; ++j) bias[j] = b_ih.data[j] + b_hh.data[j];
  for (int b = 0; b < B; ++b)
    for (int j = 0; j < H; ++j)
      cuda_math::lstm_c_scan_unit(pre.data(), bias.data(), c0.ptr(), len.data(), cs.data(), T, B, H, b, j);
  REQUIRE(cs.size() == cpu.c.size());
  for (size_t i = 0; i < cs.size(); ++i) {
    INFO("c element " << i << ": scan " << cs[i] << " cpu backend " << cpu.c[i]);
    REQUIRE(std::abs(cs[i] - cpu.c[i]) <= 1e-5f * std::max(1.0f, std::abs(cpu.c[i])));
  }

  // The padding mask zeroes exactly the rows past each length.
  std::vector<float> rows((size_t)T * B * 2, 1.0f);
  for (long i = 0; i < (long)rows.size(); ++i) cuda_math::mask_padding_element(rows.data(), len.data(), B, 2, i);
  for (int t = 0; t < T; ++t)
    for (int b = 0; b < B; ++b) CHECK(rows[((size_t)t * B + b) * 2] == (t < len[b] ? 1.0f : 0.0f));
}

TEST_CASE("device choice (--device): cpu always, auto falls back to the cpu, cuda fails saying why when there is no GPU") {
  CHECK(resolve_device("cpu") == Device::CPU);
  CHECK_THROWS_WITH(resolve_device("gpu"), Catch::Contains("not one of cpu, cuda, auto"));
  CudaStatus s = cuda_status();
  CHECK(s.built == built_with_cuda());
  if (s.available) {  // a GPU machine: the other branch is checked everywhere else
    CHECK(resolve_device("auto") == Device::CUDA);
    CHECK(resolve_device("cuda") == Device::CUDA);
    return;
  }
  CHECK(resolve_device("auto") == Device::CPU);
  CHECK_THROWS_WITH(resolve_device("cuda"), Catch::Contains(s.built ? "no CUDA device" : "built without CUDA"));
  CHECK_THROWS(cuda_backend());
  CHECK(describe_device(Device::CPU, "auto").find(s.built ? "no CUDA device" : "built without CUDA") != std::string::npos);
  CHECK(&default_rnn_backend() == &cpu_backend());
}
