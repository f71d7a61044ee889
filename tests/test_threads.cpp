// Threads change the speed, never the result; the governor moves to the faster thread count.
#include <catch2/catch.hpp>
#include <filesystem>

#include "corpora/corpus.h"
#include "engine/kernels.h"
#include "engine/safetensors.h"
#include "engine/thread_governor.h"
#include "models/train_charlm.h"
#include "temp_files.h"

using namespace memsig;
using memsig::test::temp_path;

namespace {
struct ThreadsGuard {
  ~ThreadsGuard() { set_threads(0); }
};
}  // namespace

TEST_CASE("training gives the same weights on one thread and on two", "[threads]") {
  ThreadsGuard guard;
  Corpus c;
  c.name = "toy";
  Rng rng(3);
  const char* words[] = {"abc", "hello", "xyz", "memory", "signature"};
  for (int i = 0; i < 200; ++i) {
    std::string line;
    for (int k = 0; k < 6; ++k) line += (k ? " " : "") + std::string(words[rng.below(5)]);
    (i % 10 == 0 ? c.valid : i % 10 == 1 ? c.test : c.train).push_back(normalize(line));
  }
  for (const char* cell : {"gru", "lstm"}) {
    SECTION(cell) {
      std::vector<std::string> outs;
      for (int threads : {1, 2}) {
        set_threads(threads);
        TrainOptions o;
        o.model.cell = parse_cell(cell);
        o.model.hidden = 96; o.model.embed = 16;  // large enough for the parallel GEMM and gate loops
        o.epochs = 1; o.batch = 32; o.quiet = true;
        o.out = temp_path(std::string(cell) + "_threads" + std::to_string(threads) + ".safetensors");
        train_charlm(c, o);
        outs.push_back(o.out);
      }
      auto a = load_safetensors(outs[0] + ".ckpt"), b = load_safetensors(outs[1] + ".ckpt");
      REQUIRE(a.tensors.size() == b.tensors.size());
      for (auto& [name, t] : a.tensors) {
        INFO(name);
        REQUIRE(t.data == b.tensors.at(name).data);
      }
      for (auto& f : outs) { std::filesystem::remove(f); std::filesystem::remove(f + ".ckpt"); }
    }
  }
}

TEST_CASE("the thread governor settles on the faster thread count", "[threads]") {
  ThreadsGuard guard;
  // A fake clock: each step takes seconds_per_step(threads in use now); every step does 100 units.
  auto run = [](int start, int max, bool enabled, double one_thread_s, double two_threads_s, int steps) {
    set_adapted_threads(start);
    double t = 0;
    ThreadGovernor gov(enabled, max, [&] { return t; });
    for (int i = 0; i < steps; ++i) {
      t += get_threads() == 1 ? one_thread_s : two_threads_s;
      gov.step_done(100);
    }
    return gov.threads();
  };
  // Contention: one thread runs faster than two; the governor starts on two and moves to one.
  CHECK(run(2, 2, true, 0.07, 0.10, 400) == 1);
  // A quiet machine: two threads are faster; starting on one it moves up, starting on two it stays.
  CHECK(run(1, 2, true, 0.10, 0.06, 400) == 2);
  CHECK(run(2, 2, true, 0.10, 0.06, 400) == 2);
  // Within 5% it does not move.
  CHECK(run(2, 2, true, 0.098, 0.10, 400) == 2);
  // Disabled (the user fixed --threads): never changes.
  CHECK(run(2, 2, false, 0.01, 0.10, 400) == 2);

  // Another process starts after 4000 quiet steps (two threads best, the governor long settled and
  // backed off): two threads become slower than one, and the governor moves within 60 s.
  set_adapted_threads(2);
  double t = 0;
  ThreadGovernor gov(true, 2, [&] { return t; });
  for (int i = 0; i < 4000; ++i) { t += get_threads() == 1 ? 0.10 : 0.06; gov.step_done(100); }
  REQUIRE(gov.threads() == 2);
  const double start = t;
  while (gov.threads() == 2 && t - start < 300) { t += get_threads() == 1 ? 0.10 : 0.25; gov.step_done(100); }
  CHECK(gov.threads() == 1);
  CHECK(t - start < 60);
}
