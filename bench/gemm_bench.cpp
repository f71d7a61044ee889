// memsig_gemm_bench — GFLOP/s of the recurrent GEMM shapes (and 2048³): OpenBLAS as memsig calls
// it today against gemm_packed() with B packed once (the RNN case: W_hh is the same at every
// step) and with the packing counted in every call.
//
//   build/memsig_gemm_bench [--threads 1,2] [--repeats 5] [--kernels avx512,avx2] [--quick]
//
// Shapes (M = batch = 64):
//   fwd  gates[64, G*H] += h[64, H] · W_hhᵀ     (W_hh stored [G*H, H], transB, beta 1)
//   bwd  dh[64, H]       = dpre[64, G*H] · W_hh  (W_hh stored [G*H, H] = [K, N], beta 0)
//   for H in 80, 320, 640 and G = 3 (GRU), 4 (LSTM); plus 2048³ (beta 0).
// Each call of a timed loop uses the next of a ring of A and C buffers (~8 MB in all), as the
// time loop of the RNN walks through fresh rows of its tapes. Every figure is the best of
// --repeats timings (each >= 0.1 s of calls), the configurations interleaved within a repeat so
// that drift in the machine's speed hits them alike.
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

extern "C" char* openblas_get_corename();

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

}  // namespace

int main(int argc, char** argv) {
  std::vector<int> threads = {1, 2};
  int repeats = 5;
  double min_s = 0.1;
  std::vector<std::string> kernels = gemm_kernels_supported();
  if (kernels.size() > 1) kernels.pop_back();  // generic: for correctness, not speed
  bool quick = false;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto next = [&]() -> std::string {
      if (i + 1 >= argc) { std::fprintf(stderr, "%s needs a value\n", a.c_str()); std::exit(2); }
      return argv[++i];
    };
    if (a == "--threads") threads = parse_ints(next());
    else if (a == "--repeats") repeats = std::atoi(next().c_str());
    else if (a == "--kernels") kernels = parse_strings(next());
    else if (a == "--quick") { quick = true; repeats = 2; min_s = 0.03; }
    else { std::fprintf(stderr, "usage: %s [--threads 1,2] [--repeats N] [--kernels avx512,avx2] [--quick]\n", argv[0]); return 2; }
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

  const char* ct = std::getenv("OPENBLAS_CORETYPE");
  std::printf("OpenBLAS core: %s (OPENBLAS_CORETYPE=%s); gemm_packed kernels:", openblas_get_corename(),
              ct ? ct : "unset");
  for (auto& k : kernels) std::printf(" %s", k.c_str());
  std::printf("; best of %d repeats\n\n", repeats);
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
          gemm(false, s.transB, s.M, s.N, s.K, 1.0f, a_at(i), B.data(), s.beta, c_at(i));
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
  return 0;
}
