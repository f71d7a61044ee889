// gemm_packed() against OpenBLAS (gemm()) over many shapes, with every micro-kernel this CPU
// can run forced in turn; kernels it cannot run are skipped with a message.
#include <catch2/catch.hpp>

#include <cmath>
#include <cstdio>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "engine/gemm_packed.h"
#include "engine/kernels.h"
#include "engine/rng.h"

using namespace memsig;

namespace {

const std::vector<std::string> kAllKernels = {"avx512", "avx2", "neon", "generic"};

// Restores the automatic kernel, default blocking and thread count when a test ends.
struct KernelGuard {
  ~KernelGuard() {
    set_gemm_kernel("auto");
    set_gemm_blocking(0, 0);
    set_threads(0);
  }
};

std::vector<float> random_vector(size_t n, std::mt19937& rng) {
  std::uniform_real_distribution<float> u(-1.0f, 1.0f);
  std::vector<float> v(n);
  for (float& x : v) x = u(rng);
  return v;
}

// One case: C = alpha op(A) op(B) + beta C through gemm_packed (gemm_packed_a when transA) and
// through OpenBLAS; every element must agree to 1e-5 of the size of its terms (sum of |alpha a b|
// and |beta c|). op(A) = A stored [M, lda >= K], or Aᵀ with A stored [K, lda >= M] when transA.
void check_case(int M, int N, int K, bool transB, float alpha, float beta, std::mt19937& rng, int lda_pad = 0,
                int ldc_pad = 0, bool transA = false) {
  const int lda = (transA ? M : K) + lda_pad, ldc = N + ldc_pad;
  std::vector<float> A = random_vector((size_t)(transA ? K : M) * lda, rng), B = random_vector((size_t)N * K, rng);
  std::vector<float> C0 = random_vector((size_t)M * ldc, rng);
  // OpenBLAS (as gemm_openblas calls it) wants contiguous op(A) rows and C: compact copies.
  std::vector<float> Ac((size_t)M * K), ref((size_t)M * N), scale((size_t)M * N);
  for (int i = 0; i < M; ++i)
    for (int k = 0; k < K; ++k) Ac[(size_t)i * K + k] = transA ? A[(size_t)k * lda + i] : A[(size_t)i * lda + k];
  for (int i = 0; i < M; ++i)
    for (int j = 0; j < N; ++j) ref[(size_t)i * N + j] = C0[(size_t)i * ldc + j];
  gemm_openblas(false, transB, M, N, K, alpha, Ac.data(), B.data(), beta, ref.data());
  for (int i = 0; i < M; ++i)
    for (int j = 0; j < N; ++j) {
      double s = std::fabs(beta * C0[(size_t)i * ldc + j]);
      for (int k = 0; k < K; ++k) {
        float b = transB ? B[(size_t)j * K + k] : B[(size_t)k * N + j];
        s += std::fabs(alpha * Ac[(size_t)i * K + k] * b);
      }
      scale[(size_t)i * N + j] = (float)s;
    }

  PackedB P = pack_b(B.data(), N, K, transB);
  std::vector<float> C = C0;
  if (beta == 0.0f)  // C must not be read: NaNs there must not come out
    for (int i = 0; i < M; ++i)
      for (int j = 0; j < N; ++j) C[(size_t)i * ldc + j] = std::numeric_limits<float>::quiet_NaN();
  gemm_packed_a(transA, M, alpha, A.data(), lda, P, beta, C.data(), ldc);

  int bad = 0;
  for (int i = 0; i < M; ++i) {
    for (int j = 0; j < N; ++j) {
      float got = C[(size_t)i * ldc + j], want = ref[(size_t)i * N + j];
      if (!(std::fabs(got - want) <= 1e-5f * scale[(size_t)i * N + j] + 1e-30f) && bad++ < 3)
        FAIL_CHECK("M=" << M << " N=" << N << " K=" << K << " transA=" << transA << " transB=" << transB
                        << " alpha=" << alpha << " beta=" << beta << " C[" << i << "," << j << "] = " << got
                        << ", OpenBLAS " << want);
    }
    for (int j = N; j < ldc; ++j)  // padding past N is not touched
      if (C[(size_t)i * ldc + j] != C0[(size_t)i * ldc + j] && bad++ < 3) FAIL_CHECK("wrote past N");
  }
  CHECK(bad == 0);
}

// Runs body() once per micro-kernel, forced; unsupported kernels are skipped with a message.
template <class F>
void for_each_kernel(F body) {
  KernelGuard guard;
  for (const std::string& k : kAllKernels) {
    if (!set_gemm_kernel(k)) {
      WARN("skipping the " << k << " GEMM kernel: this CPU lacks its instructions");
      continue;
    }
    REQUIRE(gemm_kernel() == k);
    INFO("kernel " << k);
    body(k);
  }
}

}  // namespace

TEST_CASE("gemm_packed: kernel selection", "[gemm_packed]") {
  KernelGuard guard;
  std::vector<std::string> ks = gemm_kernels_supported();
  REQUIRE(!ks.empty());
  CHECK(ks.back() == "generic");
  CHECK(gemm_kernel_supported("generic"));
  CHECK_THROWS_AS(set_gemm_kernel("sse9"), std::invalid_argument);
  REQUIRE(set_gemm_kernel("auto"));
  CHECK(gemm_kernel() == ks.front());  // auto = the best supported
  for (const std::string& k : kAllKernels) CHECK(set_gemm_kernel(k) == gemm_kernel_supported(k));
}

TEST_CASE("gemm_packed agrees with OpenBLAS: edge shapes", "[gemm_packed]") {
  for_each_kernel([](const std::string&) {
    std::mt19937 rng(1);
    // 1, tile edges (MR = 4, 6, 8; vectors of 8, 16; NR = 16, 48) and odd sizes, both storage orders of B.
    const int Ms[] = {1, 2, 5, 6, 7, 8, 9, 13, 17, 64};
    const int Ns[] = {1, 3, 8, 9, 15, 16, 17, 31, 32, 33, 47, 48, 49, 65, 100};
    const int Ks[] = {1, 2, 7, 16, 33, 100};
    for (bool transB : {false, true})
      for (int M : Ms)
        for (int N : Ns)
          for (int K : Ks) check_case(M, N, K, transB, 1.0f, (M + N + K) % 2 ? 1.0f : 0.0f, rng);
  });
}

TEST_CASE("gemm_packed agrees with OpenBLAS: alpha, beta, strides, RNN shapes", "[gemm_packed]") {
  for_each_kernel([](const std::string&) {
    std::mt19937 rng(2);
    for (bool transB : {false, true})
      for (float alpha : {1.0f, -0.5f, 2.0f})
        for (float beta : {0.0f, 1.0f, 0.25f}) check_case(19, 45, 37, transB, alpha, beta, rng, 3, 5);
    // The recurrence: forward gates[64, G*H] += h[64, H] W_hh^T, backward dh[64, H] = dpre W_hh.
    check_case(64, 4 * 80, 80, true, 1.0f, 1.0f, rng);
    check_case(64, 3 * 80, 80, true, 1.0f, 1.0f, rng);
    check_case(64, 80, 4 * 80, false, 1.0f, 0.0f, rng);
    check_case(64, 3 * 320, 320, true, 1.0f, 1.0f, rng);
    check_case(64, 320, 3 * 320, false, 1.0f, 1.0f, rng);
  });
}

TEST_CASE("gemm_packed agrees with OpenBLAS: k and row blocks, two threads", "[gemm_packed]") {
  for_each_kernel([](const std::string&) {
    std::mt19937 rng(3);
    // Small blocks force several k blocks (beta of the first, 1 after) and several row blocks
    // (A re-packed), with and without the row split between threads.
    for (int threads : {1, 2}) {
      set_threads(threads);
      for (auto [kc, mc] : {std::pair{16, 8}, std::pair{7, 24}, std::pair{0, 0}}) {
        set_gemm_blocking(kc, mc);
        check_case(50, 70, 61, true, 1.0f, 0.0f, rng);
        check_case(50, 70, 61, false, 0.5f, 1.0f, rng);
        check_case(37, 8, 300, false, 1.0f, 1.0f, rng);    // few column panels: rows split
        check_case(130, 200, 129, true, 1.0f, 1.0f, rng);  // enough work for two threads
      }
    }
  });
}

TEST_CASE("gemm_packed: called inside a parallel region (a team smaller than get_threads())",
          "[gemm_packed]") {
  for_each_kernel([](const std::string&) {
    set_threads(2);  // the GEMM plans for two threads; nested, it gets a team of one
    std::mt19937 rng(8);
    const int M = 64, N = 240, K = 80;
    std::vector<float> A = random_vector((size_t)M * K, rng), W = random_vector((size_t)N * K, rng);
    std::vector<float> ref((size_t)M * N, 0.0f), C1((size_t)M * N, 0.0f), C2((size_t)M * N, 0.0f);
    gemm_openblas(false, true, M, N, K, 1.0f, A.data(), W.data(), 0.0f, ref.data());
    PackedB P = pack_b(W.data(), N, K, true);
#pragma omp parallel num_threads(2)
    {
#pragma omp sections
      {
#pragma omp section
        gemm_packed(M, A.data(), K, P, 0.0f, C1.data(), N);
#pragma omp section
        gemm_packed(M, A.data(), K, P, 0.0f, C2.data(), N);
      }
    }
    int bad = 0;
    for (size_t i = 0; i < ref.size(); ++i)
      if ((std::fabs(C1[i] - ref[i]) > 1e-4f || std::fabs(C2[i] - ref[i]) > 1e-4f) && bad++ < 3)
        FAIL_CHECK("element " << i << ": " << C1[i] << ", " << C2[i] << " vs " << ref[i]);
    CHECK(bad == 0);
  });
}

TEST_CASE("gemm_packed_a: A transposed (the weight-gradient products), every kernel and edge", "[gemm_packed]") {
  for_each_kernel([](const std::string&) {
    std::mt19937 rng(11);
    // Rows and columns off every tile size; K across the k block; padded leading dimensions.
    for (auto [M, N, K] : std::vector<std::tuple<int, int, int>>{{1, 1, 1}, {7, 17, 5}, {9, 49, 33}, {64, 320, 600},
                                                                  {130, 97, 1030}, {1280, 48, 64}})
      for (bool transB : {false, true}) {
        check_case(M, N, K, transB, 1.0f, 0.0f, rng, 0, 0, true);
        check_case(M, N, K, transB, 0.5f, 1.0f, rng, 3, 5, true);
      }
  });
  KernelGuard guard;
  set_threads(2);
  std::mt19937 rng(12);
  check_case(300, 200, 700, false, 1.0f, 0.7f, rng, 1, 0, true);  // two threads, row and column splits
  CHECK_THROWS_AS(gemm_packed_a(true, 8, 1.0f, nullptr, 7, pack_b(std::vector<float>(16).data(), 4, 4, false), 0.0f,
                                std::vector<float>(32).data(), 4),
                  std::invalid_argument);  // lda < M
}

TEST_CASE("gemm_packed: K = 0 scales C by beta, M = 0 or N = 0 do nothing", "[gemm_packed]") {
  for_each_kernel([](const std::string&) {
    std::vector<float> C = {1, 2, 3, 4, 5, 6};
    PackedB P = pack_b(nullptr, 3, 0, true);
    gemm_packed(2, nullptr, 0, P, 0.5f, C.data(), 3);
    CHECK(C == std::vector<float>{0.5f, 1, 1.5f, 2, 2.5f, 3});
    gemm_packed(2, nullptr, 0, P, 0.0f, C.data(), 3);
    CHECK(C == std::vector<float>(6, 0.0f));
    PackedB Z = pack_b(nullptr, 0, 5, false);
    gemm_packed(2, nullptr, 5, Z, 0.0f, C.data(), 3);
    gemm_packed(0, nullptr, 5, P, 0.0f, C.data(), 3);
  });
}

TEST_CASE("gemm_packed: a PackedB keeps the kernel it was packed for, repack_b reuses it",
          "[gemm_packed]") {
  KernelGuard guard;
  std::mt19937 rng(4);
  const int M = 9, N = 40, K = 23;
  std::vector<float> A = random_vector((size_t)M * K, rng), B = random_vector((size_t)N * K, rng);
  std::vector<float> ref((size_t)M * N), C((size_t)M * N);
  gemm_openblas(false, true, M, N, K, 1.0f, A.data(), B.data(), 0.0f, ref.data());
  set_gemm_kernel("generic");
  PackedB P = pack_b(B.data(), N, K, true);
  CHECK(P.kernel == "generic");
  set_gemm_kernel("auto");  // packed for generic: still multiplied by generic
  gemm_packed(M, A.data(), K, P, 0.0f, C.data(), N);
  for (size_t i = 0; i < C.size(); ++i) CHECK(C[i] == Approx(ref[i]).margin(1e-4));
  // Re-packing other values (the weights after an optimizer step) into the same PackedB.
  for (float& b : B) b *= -2.0f;
  const float* before = P.panel(0);
  repack_b(P, B.data(), N, K, true);
  CHECK(P.kernel == gemm_kernel());
  if (P.nr == 16) CHECK(P.panel(0) == before);  // same size: same memory
  gemm_packed(M, A.data(), K, P, 0.0f, C.data(), N);
  for (size_t i = 0; i < C.size(); ++i) CHECK(C[i] == Approx(-2.0f * ref[i]).margin(2e-4));
  CHECK_THROWS_AS(pack_b(B.data(), 10, K, true, 3), std::invalid_argument);  // 10 % 3 != 0
  CHECK_THROWS_AS(gemm_packed(M, A.data(), K - 1, P, 0.0f, C.data(), N), std::invalid_argument);
}

// The fused epilogue: bias + tanh applied to each finished block, with gate groups as the LSTM
// would use them; every element must be visited exactly once and come out as tanh(A B^T + bias).
TEST_CASE("gemm_packed: fused epilogue (bias + tanh over column groups)", "[gemm_packed]") {
  for_each_kernel([](const std::string&) {
    std::mt19937 rng(5);
    for (int threads : {1, 2}) {
      set_threads(threads);
      for (auto [M, H, G] : {std::tuple{64, 80, 4}, std::tuple{13, 20, 3}, std::tuple{5, 33, 1}}) {
        const int N = G * H, K = H;
        std::vector<float> A = random_vector((size_t)M * K, rng), W = random_vector((size_t)N * K, rng);
        std::vector<float> bias = random_vector(N, rng), C0 = random_vector((size_t)M * N, rng);
        std::vector<float> ref = C0;
        gemm_openblas(false, true, M, N, K, 1.0f, A.data(), W.data(), 1.0f, ref.data());
        for (int i = 0; i < M; ++i)
          for (int j = 0; j < N; ++j) ref[(size_t)i * N + j] = std::tanh(ref[(size_t)i * N + j] + bias[j]);

        PackedB P = pack_b(W.data(), N, K, true, G);
        std::vector<float> C = C0;
        std::vector<int> visits((size_t)M * N, 0);
        gemm_packed(M, A.data(), K, P, 1.0f, C.data(), N, [&](int r0, int rows, int u0, int units) {
          for (int i = r0; i < r0 + rows; ++i)
            for (int g = 0; g < G; ++g)  // the same units of every gate group
              for (int u = u0; u < u0 + units; ++u) {
                const int j = g * H + u;
                float& c = C[(size_t)i * N + j];
                c = fast_tanh(c + bias[j]);
                ++visits[(size_t)i * N + j];  // blocks are disjoint: no race
              }
        });
        int bad = 0;
        for (size_t i = 0; i < C.size(); ++i)
          if ((visits[i] != 1 || std::fabs(C[i] - ref[i]) > 1e-4f) && bad++ < 3)
            FAIL_CHECK("M=" << M << " H=" << H << " G=" << G << " element " << i << ": " << C[i] << " vs "
                            << ref[i] << ", visited " << visits[i] << " times");
        CHECK(bad == 0);
      }
    }
  });
}

// How the RNN would use the epilogue: a whole LSTM step (gate nonlinearities, c and h updates)
// fused into the recurrent GEMM, against the unfused GEMM + gate loop.
TEST_CASE("gemm_packed: an LSTM step fused into the epilogue", "[gemm_packed]") {
  for_each_kernel([](const std::string&) {
    std::mt19937 rng(6);
    for (int threads : {1, 2}) {
      set_threads(threads);
      for (auto [B, H] : {std::pair{64, 80}, std::pair{64, 50}, std::pair{7, 33}}) {
        const int G = 4 * H;
        std::vector<float> xg = random_vector((size_t)B * G, rng);  // x W_ih^T + biases, precomputed
        std::vector<float> h_prev = random_vector((size_t)B * H, rng), c_prev = random_vector((size_t)B * H, rng);
        std::vector<float> W = random_vector((size_t)G * H, rng);  // W_hh [4H, H], gate rows i, f, g, o

        // Unfused: gates = xg + h_prev W^T, then the gate loop.
        std::vector<float> gates = xg, c_ref((size_t)B * H), h_ref((size_t)B * H);
        gemm_openblas(false, true, B, G, H, 1.0f, h_prev.data(), W.data(), 1.0f, gates.data());
        for (int b = 0; b < B; ++b)
          for (int u = 0; u < H; ++u) {
            const float* g = gates.data() + (size_t)b * G;
            float i = fast_sigmoid(g[u]), f = fast_sigmoid(g[H + u]), gg = fast_tanh(g[2 * H + u]),
                  o = fast_sigmoid(g[3 * H + u]);
            c_ref[(size_t)b * H + u] = f * c_prev[(size_t)b * H + u] + i * gg;
            h_ref[(size_t)b * H + u] = o * fast_tanh(c_ref[(size_t)b * H + u]);
          }

        // Fused: W_hh packed in 4 gate groups, so every block holds i, f, g, o of the same units.
        PackedB Wp = pack_b(W.data(), G, H, /*transB=*/true, /*groups=*/4);
        std::vector<float> gt = xg, c((size_t)B * H), h((size_t)B * H);
        gemm_packed(B, h_prev.data(), H, Wp, 1.0f, gt.data(), G, [&](int b0, int rows, int u0, int units) {
          for (int b = b0; b < b0 + rows; ++b) {
            float* g = gt.data() + (size_t)b * G;
            sigmoid_inplace(g + u0, units);          // i
            sigmoid_inplace(g + H + u0, units);      // f
            tanh_inplace(g + 2 * H + u0, units);     // g
            sigmoid_inplace(g + 3 * H + u0, units);  // o
            for (int u = u0; u < u0 + units; ++u) {
              float& cn = c[(size_t)b * H + u];
              cn = g[H + u] * c_prev[(size_t)b * H + u] + g[u] * g[2 * H + u];
              h[(size_t)b * H + u] = g[3 * H + u] * fast_tanh(cn);
            }
          }
        });
        int bad = 0;
        for (size_t k = 0; k < h.size(); ++k)
          if ((std::fabs(h[k] - h_ref[k]) > 1e-5f || std::fabs(c[k] - c_ref[k]) > 1e-5f) && bad++ < 3)
            FAIL_CHECK("B=" << B << " H=" << H << " threads=" << threads << " element " << k << ": h " << h[k]
                            << " vs " << h_ref[k] << ", c " << c[k] << " vs " << c_ref[k]);
        CHECK(bad == 0);
      }
    }
  });
}

TEST_CASE("the engine's gemm(), which sends large products to the packed kernels, agrees with OpenBLAS", "[gemm]") {
  Rng rng(5);
  for (auto [M, N, K] : std::vector<std::tuple<int, int, int>>{
           {640, 1280, 32}, {6400, 320, 1280}, {512, 34, 320}, {3, 50, 50},
           {1280, 320, 1100}, {256, 64, 513}, {33, 20, 64},  // Aᵀ·B in K chunks: one, two, a ragged third
           {1, 960, 320}, {1, 7, 5}})                         // one row: a matrix-vector product
    for (bool ta : {false, true})
      for (bool tb : {false, true}) {
        std::vector<float> A((size_t)M * K), B((size_t)K * N), C((size_t)M * N), R((size_t)M * N);
        for (auto& v : A) v = rng.uniform(-1, 1);
        for (auto& v : B) v = rng.uniform(-1, 1);
        for (size_t i = 0; i < C.size(); ++i) C[i] = R[i] = rng.uniform(-1, 1);
        gemm(ta, tb, M, N, K, 0.5f, A.data(), B.data(), 1.0f, C.data());
        gemm_openblas(ta, tb, M, N, K, 0.5f, A.data(), B.data(), 1.0f, R.data());
        INFO(M << "x" << N << "x" << K << " transA " << ta << " transB " << tb);
        for (size_t i = 0; i < C.size(); ++i) REQUIRE(C[i] == Approx(R[i]).margin(1e-4 * std::sqrt((double)K)));
      }
}
