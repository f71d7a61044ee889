// cmd_bench.cpp — `memsig bench`: parses the options and runs the measurements of bench/bench.h.
#include <cstdio>
#include <nlohmann/json.hpp>
#include <sstream>

#include "bench/bench.h"
#include "cli/commands.h"
#include "cli/options.h"
#include "cli/device_option.h"
#include "engine/device.h"
#include "engine/kernels.h"

namespace memsig::cli {

void add_bench(CLI::App& app) {
  auto* cmd = app.add_subcommand("bench", "throughput of training, inference and the probe (see scripts/bench)");
  static std::string configs = "lstm:1x80,lstm:1x320,gru:1x320,lstm:1x640,lstm:4x320";
  static int steps = 100, batch = 64, embed = 32, warmup = 5;
  static bool probe = false, peak = false, memory = false;
  static int sample_steps = 0;
  cmd->add_option("--configs", configs, "comma-separated CELL:LAYERSxHIDDEN")->capture_default_str();
  cmd->add_option("--steps", steps)->capture_default_str()->check(integer_in(1, 1000000));
  cmd->add_option("--batch", batch)->capture_default_str()->check(integer_in(1, 65536));
  cmd->add_option("--embed", embed)->capture_default_str()->check(integer_in(1, kMaxConfigEmbed));
  cmd->add_flag("--peak", peak, "also measure the sgemm peak");
  cmd->add_flag("--probe", probe, "time the joint probe against training decoders one by one");
  cmd->add_flag("--ptb-memory", memory, "peak memory of LSTM 1x640 training steps on PTB's longest batch");
  cmd->add_option("--sample", sample_steps, "time sampling at batch 1 for this many steps (per config) instead of training")
      ->check(integer_in(0, 100000000));
  add_common(cmd);
  add_device(cmd);
  cmd->callback([] {
    if (memory) {  // alone, so the process's peak RSS is this measurement's
      std::printf("%s\n", bench_ptb_memory(batch, embed).dump().c_str());
      return;
    }
    nlohmann::json out = {{"threads", get_threads()}};
    const auto parsed = parse_bench_configs(configs, embed);  // all of them, before any work
    out["device"] = device_name(default_device());
    if (sample_steps > 0) {
      for (auto& [item, cfg] : parsed) out["sample"][item] = bench_sampling(cfg, sample_steps);
      std::printf("%s\n", out.dump().c_str());
      return;
    }
    Corpus corpus = load_corpus("shakespeare");
    if (peak) out["sgemm_peak_gflops"] = sgemm_peak_gflops();
    auto batches = bench_batches(corpus.train, batch, steps + warmup);
    for (auto& [item, cfg] : parsed) {
      auto r = bench_throughput(cfg, batches, warmup);
      std::fprintf(stderr, "memsig %-11s train %8.0f chars/s  infer %8.0f chars/s  %.1f GFLOP/s\n", item.c_str(),
                   r["train_chars_per_s"].get<double>(), r["infer_chars_per_s"].get<double>(), r["train_gflops"].get<double>());
      out["configs"][item] = r;
    }
    if (probe) out["probe"] = bench_probe(corpus);
    std::printf("%s\n", out.dump().c_str());
  });
}

}  // namespace memsig::cli
