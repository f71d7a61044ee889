// memsig_gemm_bench — GFLOP/s of the recurrent GEMM shapes (and 2048³): OpenBLAS as memsig calls
// it today against gemm_packed() with B packed once (the RNN case: W_hh is the same at every
// step) and with the packing counted in every call.
//
//   build/memsig_gemm_bench [--threads 1,2] [--repeats 15] [--kernels avx512,avx2] [--quick]
//                           [--shape 'fwd lstm H=640' ...] [--peak]
// --peak first prints the FMA peak of the machine (register-only FMA loops) for comparison.
//
// Shapes (M = batch = 64):
//   fwd  gates[64, G*H] += h[64, H] · W_hhᵀ     (W_hh stored [G*H, H], transB, beta 1)
//   bwd  dh[64, H]       = dpre[64, G*H] · W_hh  (W_hh stored [G*H, H] = [K, N], beta 0)
//   for H in 80, 320, 640 and G = 3 (GRU), 4 (LSTM); plus 2048³ (beta 0).
// Each call of a timed loop uses the next of a ring of A and C buffers (~8 MB in all), as the
// time loop of the RNN walks through fresh rows of its tapes. Every figure is the best of
// --repeats timings (each >= 20 ms and 3 calls), the configurations interleaved within a repeat,
// so that drift in the machine's speed hits them alike and short quiet moments on a shared
// machine are caught.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "engine/gemm_packed.h"
#include "engine/kernels.h"

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#endif
#include <omp.h>

#ifdef MEMSIG_ACCELERATE
static const char* openblas_get_corename() { return "none (Accelerate)"; }
#else
extern "C" char* openblas_get_corename();
#endif

using namespace memsig;

namespace {

struct Shape {
  std::string name;
  int M, N, K;
  bool transB;
  float beta;
};

std::vector<int> parse_ints(const std::string& s) {
  std::vector<int> out;
  std::stringstream ss(s);
  for (std::string t; std::getline(ss, t, ',');) out.push_back(std::atoi(t.c_str()));
  return out;
}
std::vector<std::string> parse_strings(const std::string& s) {
  std::vector<std::string> out;
  std::stringstream ss(s);
  for (std::string t; std::getline(ss, t, ',');) out.push_back(t);
  return out;
}

// Seconds per call of f(i) (i counts calls), timed over at least min_s and 3 calls.
double time_per_call(const std::function<void(int)>& f, double min_s) {
  using clk = std::chrono::steady_clock;
  f(0);  // warm-up
  int calls = 0;
  auto t0 = clk::now();
  double s = 0;
  do {
    f(++calls);
    s = std::chrono::duration<double>(clk::now() - t0).count();
  } while (s < min_s || calls < 3);
  return s / calls;
}

#if defined(__x86_64__) || defined(__i386__)
// The machine's FMA peak: independent FMA chains on registers only (no memory traffic), so the
// FMA units are the only limit. Returns the flops done.
__attribute__((target("avx512f,fma"))) double fma_loop_avx512(long n, float* sink) {
  __m512 acc[16];
  for (int i = 0; i < 16; ++i) acc[i] = _mm512_set1_ps(0.001f * i);
  const __m512 m = _mm512_set1_ps(0.9999f), c = _mm512_set1_ps(1e-4f);
  for (long k = 0; k < n; ++k)
#pragma GCC unroll 16
    for (int i = 0; i < 16; ++i) acc[i] = _mm512_fmadd_ps(acc[i], m, c);
  float out[16];
  for (int i = 1; i < 16; ++i) acc[0] = _mm512_add_ps(acc[0], acc[i]);
  _mm512_storeu_ps(out, acc[0]);
  *sink = out[0];
  return 2.0 * 16 * 16 * n;
}
__attribute__((target("avx2,fma"))) double fma_loop_avx2(long n, float* sink) {
  __m256 acc[12];
  for (int i = 0; i < 12; ++i) acc[i] = _mm256_set1_ps(0.001f * i);
  const __m256 m = _mm256_set1_ps(0.9999f), c = _mm256_set1_ps(1e-4f);
  for (long k = 0; k < n; ++k)
#pragma GCC unroll 12
    for (int i = 0; i < 12; ++i) acc[i] = _mm256_fmadd_ps(acc[i], m, c);
  float out[8];
  for (int i = 1; i < 12; ++i) acc[0] = _mm256_add_ps(acc[0], acc[i]);
  _mm256_storeu_ps(out, acc[0]);
  *sink = out[0];
  return 2.0 * 12 * 8 * n;
}

// Best of 3 runs of ~0.2 s on `threads` threads at once.
double fma_peak(bool avx512, int threads) {
  double best = 0;
  for (int r = 0; r < 3; ++r) {
    double flops = 0, t0 = omp_get_wtime();
    float sink = 0;
#pragma omp parallel num_threads(threads) reduction(+ : flops)
    {
      float s;
      flops += avx512 ? fma_loop_avx512(20000000, &s) : fma_loop_avx2(20000000, &s);
      if (s == 12345.0f) sink = s;  // keep the result alive
    }
    best = std::max(best, flops / (omp_get_wtime() - t0) / 1e9 + sink * 0);
  }
  return best;
}
#endif

}  // namespace

int main(int argc, char** argv) {
  std::vector<int> threads = {1, 2};
  int repeats = 15;
  double min_s = 0.02;
  std::vector<std::string> kernels = gemm_kernels_supported();
  if (kernels.size() > 1) kernels.pop_back();  // generic: for correctness, not speed
  bool quick = false, peak = false;
  std::vector<std::string> only;  // --shape NAME (repeatable): just these shapes
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto next = [&]() -> std::string {
      if (i + 1 >= argc) { std::fprintf(stderr, "%s needs a value\n", a.c_str()); std::exit(2); }
      return argv[++i];
    };
    if (a == "--threads") threads = parse_ints(next());
    else if (a == "--repeats") repeats = std::atoi(next().c_str());
    else if (a == "--kernels") kernels = parse_strings(next());
    else if (a == "--quick") { quick = true; repeats = 3; }
    else if (a == "--shape") only.push_back(next());
    else if (a == "--peak") peak = true;
    else {
      std::fprintf(stderr, "usage: %s [--threads 1,2] [--repeats N] [--kernels avx512,avx2] [--quick] [--shape 'fwd lstm H=640' ...] [--peak]\n", argv[0]);
      return 2;
    }
  }
  for (const std::string& k : kernels)
    if (!gemm_kernel_supported(k)) { std::fprintf(stderr, "kernel %s: not supported here\n", k.c_str()); return 2; }

  std::vector<Shape> shapes;
  for (int H : {80, 320, 640})
    for (int G : {3, 4}) {
      const char* cell = G == 4 ? "lstm" : "gru";
      shapes.push_back({"fwd " + std::string(cell) + " H=" + std::to_string(H), 64, G * H, H, true, 1.0f});
      shapes.push_back({"bwd " + std::string(cell) + " H=" + std::to_string(H), 64, H, G * H, false, 0.0f});
    }
  if (!quick) shapes.push_back({"2048^3", 2048, 2048, 2048, false, 0.0f});
  if (!only.empty())
    shapes.erase(std::remove_if(shapes.begin(), shapes.end(), [&](const Shape& s) {
      return std::find(only.begin(), only.end(), s.name) == only.end();
    }), shapes.end());

  const char* ct = std::getenv("OPENBLAS_CORETYPE");
  std::printf("OpenBLAS core: %s (OPENBLAS_CORETYPE=%s); gemm_packed kernels:", openblas_get_corename(),
              ct ? ct : "unset");
  for (auto& k : kernels) std::printf(" %s", k.c_str());
  std::printf("; best of %d repeats\n\n", repeats);
#if defined(__x86_64__) || defined(__i386__)
  if (peak)
    for (int t : threads)
      std::printf("FMA peak, %d thread(s): AVX-512 %s GFLOP/s, AVX2 %.0f GFLOP/s\n", t,
                  gemm_kernel_supported("avx512") ? std::to_string((int)fma_peak(true, t)).c_str() : "-",
                  gemm_kernel_supported("avx2") ? fma_peak(false, t) : 0.0);
  if (peak) std::printf("\n");
#endif
  std::printf("GFLOP/s (2·M·N·K / time). 'once' = B packed outside the loop (the RNN case), '+pack' = "
              "pack_b in every call.\n\n");
  std::printf("| shape | M×N×K | threads | OpenBLAS |");
  for (auto& k : kernels) std::printf(" %s once | %s +pack |", k.c_str(), k.c_str());
  std::printf(" %s once / OpenBLAS |\n|---|---|---|---|", kernels.empty() ? "-" : kernels[0].c_str());
  for (size_t i = 0; i < kernels.size(); ++i) std::printf("---|---|");
  std::printf("---|\n");

  std::mt19937 rng(7);
  std::uniform_real_distribution<float> u(-1.0f, 1.0f);
  for (const Shape& s : shapes) {
    const size_t a_n = (size_t)s.M * s.K, c_n = (size_t)s.M * s.N;
    const int ring = (int)std::max<size_t>(1, std::min<size_t>(64, (size_t)(2 << 20) / c_n));
    std::vector<float> A(a_n * ring), B((size_t)s.N * s.K), C(c_n * ring);
    for (float& x : A) x = u(rng);
    for (float& x : B) x = u(rng) * 0.05f;
    for (float& x : C) x = u(rng);
    const double flops = 2.0 * s.M * s.N * s.K;

    for (int t : threads) {
      set_threads(t);
      std::vector<PackedB> packed(kernels.size());
      for (size_t k = 0; k < kernels.size(); ++k) {
        set_gemm_kernel(kernels[k]);
        packed[k] = pack_b(B.data(), s.N, s.K, s.transB);
      }
      auto a_at = [&](int i) { return A.data() + (size_t)(i % ring) * a_n; };
      auto c_at = [&](int i) { return C.data() + (size_t)(i % ring) * c_n; };
      double best_blas = 1e30;
      std::vector<double> best_once(kernels.size(), 1e30), best_pack(kernels.size(), 1e30);
      for (int r = 0; r < repeats; ++r) {
        best_blas = std::min(best_blas, time_per_call([&](int i) {
          gemm_openblas(false, s.transB, s.M, s.N, s.K, 1.0f, a_at(i), B.data(), s.beta, c_at(i));
        }, min_s));
        for (size_t k = 0; k < kernels.size(); ++k) {
          set_gemm_kernel(kernels[k]);
          PackedB& P = packed[k];
          best_once[k] = std::min(best_once[k], time_per_call([&](int i) {
            gemm_packed(s.M, a_at(i), s.K, P, s.beta, c_at(i), s.N);
          }, min_s));
          PackedB scratch;
          best_pack[k] = std::min(best_pack[k], time_per_call([&](int i) {
            repack_b(scratch, B.data(), s.N, s.K, s.transB);
            gemm_packed(s.M, a_at(i), s.K, scratch, s.beta, c_at(i), s.N);
          }, min_s));
        }
      }
      std::printf("| %s | %d×%d×%d | %d | %.0f |", s.name.c_str(), s.M, s.N, s.K, t, flops / best_blas / 1e9);
      for (size_t k = 0; k < kernels.size(); ++k)
        std::printf(" %.0f | %.0f |", flops / best_once[k] / 1e9, flops / best_pack[k] / 1e9);
      if (!kernels.empty()) std::printf(" %.2fx |", best_blas / best_once[0]);
      std::printf("\n");
      std::fflush(stdout);
    }
  }
  set_gemm_kernel("auto");

  // The weight gradients: dW[G·H, H] += dpreᵀ · h over all T·B rows of a batch (K = 64·64 here):
  // OpenBLAS against the engine's gemm(), which runs them on the packed kernels in K chunks.
  std::vector<Shape> wgrad;
  for (int H : {80, 320, 640})
    for (int G : {3, 4})
      wgrad.push_back({"wgrad " + std::string(G == 4 ? "lstm" : "gru") + " H=" + std::to_string(H), G * H, H, 4096, false, 1.0f});
  if (!only.empty())
    wgrad.erase(std::remove_if(wgrad.begin(), wgrad.end(), [&](const Shape& s) {
      return std::find(only.begin(), only.end(), s.name) == only.end();
    }), wgrad.end());
  if (!wgrad.empty()) {
    std::printf("\nWeight gradients, C[M,N] += Aᵀ·B with A stored [K,M] (GFLOP/s):\n\n"
                "| shape | M×N×K | threads | OpenBLAS | memsig gemm() | memsig / OpenBLAS |\n|---|---|---|---|---|---|\n");
  }
  for (const Shape& s : wgrad) {
    std::vector<float> A((size_t)s.K * s.M), B((size_t)s.K * s.N), C((size_t)s.M * s.N);
    for (float& x : A) x = u(rng);
    for (float& x : B) x = u(rng);
    for (float& x : C) x = u(rng);
    const double flops = 2.0 * s.M * s.N * s.K;
    for (int t : threads) {
      set_threads(t);
      double best_blas = 1e30, best_ours = 1e30;
      for (int r = 0; r < repeats; ++r) {
        best_blas = std::min(best_blas, time_per_call([&](int) {
          gemm_openblas(true, false, s.M, s.N, s.K, 1e-3f, A.data(), B.data(), 1.0f, C.data());
        }, min_s));
        best_ours = std::min(best_ours, time_per_call([&](int) {
          gemm(true, false, s.M, s.N, s.K, 1e-3f, A.data(), B.data(), 1.0f, C.data());
        }, min_s));
      }
      std::printf("| %s | %d×%d×%d | %d | %.0f | %.0f | %.2fx |\n", s.name.c_str(), s.M, s.N, s.K, t, flops / best_blas / 1e9,
                  flops / best_ours / 1e9, best_blas / best_ours);
      std::fflush(stdout);
    }
  }
  return 0;
}
