// host_floor_bench.cpp — what stays on the host when the RNN runs on the GPU (engine/device.h):
// a training step of the char LM with a null RNN backend (no recurrent work, states left at 0),
// i.e. embedding, the rnn_layer wrapper's copies, projection, loss, backward, clipping and Adam.
// Stepped alternately with the same model on the CPU backend, it gives the share of a CPU training
// step that stays on the host when only the RNN moves to the GPU: what bounds that design's gain
// (before any host<->device traffic). Not part of `all`:
//   cmake --build build --target memsig_host_floor_bench && build/memsig_host_floor_bench [threads]
#include <chrono>
#include <cstdio>
#include <cstdlib>

#include "bench/bench.h"
#include "corpora/corpus.h"
#include "engine/kernels.h"
#include "engine/optim.h"
#include "models/charlm.h"

using namespace memsig;

namespace {

class NullBackend : public RnnBackend {  // the RNN's outputs without its work
 public:
  std::string name() const override { return "null"; }
  std::unique_ptr<RnnSaved> forward(Cell cell, const RnnWeights& w, const RnnSequence& seq, RnnStates& tp) override {
    tp.cell = cell, tp.T = seq.T, tp.B = seq.B, tp.H = w.hidden;
    tp.h.assign((size_t)(seq.T + 1) * seq.B * w.hidden, 0.0f);
    return std::make_unique<RnnSaved>();
  }
  void backward(Cell, const RnnWeights&, const RnnSequence&, const RnnStates&, const RnnSaved&, const float*, float*,
                float*, RnnGrads&) override {}
};

}  // namespace

int main(int argc, char** argv) {
  set_threads(argc > 1 ? std::atoi(argv[1]) : 0);
  Corpus corpus = load_corpus("shakespeare");
  NullBackend null;
  std::printf("host part of a training step (null RNN backend), %d threads\n", get_threads());
  std::printf("%-11s %-6s %12s %12s %8s\n", "config", "batch", "host ms", "full ms", "host");
  for (int batch : {64, 1024}) {
    const int steps = batch == 64 ? 30 : 5, warmup = 2;
    auto batches = bench_batches(corpus.train, batch, steps + warmup);
    for (const char* item : {"lstm:1x320", "lstm:1x640", "lstm:4x320"}) {
      // The same model twice, the null and the CPU backend, stepped alternately on the same
      // batches so that both see the same machine (load varies on a shared one).
      Rng r1(1), r2(1);
      CharLM host_only(parse_bench_config(item, 32), r1), full(parse_bench_config(item, 32), r2);
      host_only.backend = &null;
      full.backend = &cpu_backend();
      Adam a1(host_only.parameters(), 2e-3f), a2(full.parameters(), 2e-3f);
      double t_host = 0, t_full = 0;
      for (size_t i = 0; i < batches.size(); ++i) {
        auto t = std::chrono::steady_clock::now();
        train_step(a1, host_only.loss(batches[i], nullptr), 5.0f);
        auto u = std::chrono::steady_clock::now();
        train_step(a2, full.loss(batches[i], nullptr), 5.0f);
        auto v = std::chrono::steady_clock::now();
        if ((int)i < warmup) continue;
        t_host += std::chrono::duration<double>(u - t).count();
        t_full += std::chrono::duration<double>(v - u).count();
      }
      std::printf("%-11s %-6d %12.2f %12.2f %7.1f%%\n", item, batch, 1e3 * t_host / steps, 1e3 * t_full / steps,
                  100 * t_host / t_full);
    }
  }
}
