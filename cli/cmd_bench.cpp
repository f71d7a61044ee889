// cmd_bench.cpp — `memsig bench`: training and inference throughput of the char LM on fixed
// Tiny Shakespeare batches, the model's achieved GFLOP/s against a measured sgemm peak, and the
// joint probe against training its decoders one by one. scripts/bench runs it beside PyTorch.
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <sstream>

#include "cli/commands.h"
#include "corpora/corpus.h"
#include "engine/kernels.h"
#include "engine/optim.h"
#include "models/model_file.h"
#include "probe/decoders.h"

namespace memsig::cli {

namespace {

using Clock = std::chrono::steady_clock;
double since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

// The batches both memsig and scripts/torch_ref.py bench use: length buckets of the training split
// (sorted by length, cut every `batch`), taken at evenly spaced bucket indices.
std::vector<Batch> bench_batches(const std::vector<Segment>& segs, int batch, int steps) {
  auto buckets = length_buckets(segs, batch);
  std::vector<Batch> out;
  for (int i = 0; i < steps; ++i) out.push_back(make_batch(segs, buckets[(size_t)i * buckets.size() / steps]));
  return out;
}

// Multiply-adds x 2 of one forward pass over a batch: input projections, recurrences, output layer.
double forward_flops(const CharLMConfig& c, const Batch& b) {
  double rows = (double)b.T * b.B, G = gate_count(c.cell), H = c.hidden, f = 0;
  for (int l = 0; l < c.layers; ++l) f += 2 * rows * G * H * ((l ? H : c.embed) + H);
  return f + 2 * rows * c.vocab * H;
}

double sgemm_peak_gflops() {
  const int n = 2048;
  std::vector<float> A((size_t)n * n, 0.5f), B((size_t)n * n, 0.25f), C((size_t)n * n);
  gemm(false, false, n, n, n, 1.0f, A.data(), B.data(), 0.0f, C.data());  // warm up
  double best = 0;
  for (int r = 0; r < 3; ++r) {
    auto t = Clock::now();
    gemm(false, false, n, n, n, 1.0f, A.data(), B.data(), 0.0f, C.data());
    best = std::max(best, 2.0 * n * n * n / since(t) / 1e9);
  }
  return best;
}

// "lstm:1x320" -> config
CharLMConfig parse_config(const std::string& s, int embed) {
  auto colon = s.find(':'), x = s.find('x');
  if (colon == std::string::npos || x == std::string::npos) throw CLI::ValidationError("config '" + s + "' is not CELL:LxH");
  CharLMConfig c;
  c.cell = parse_cell(s.substr(0, colon));
  c.layers = std::stoi(s.substr(colon + 1, x - colon - 1));
  c.hidden = std::stoi(s.substr(x + 1));
  c.embed = embed;
  return c;
}

}  // namespace

void add_bench(CLI::App& app) {
  auto* cmd = app.add_subcommand("bench", "throughput of training, inference and the probe (see scripts/bench)");
  static std::string configs = "lstm:1x80,lstm:1x320,gru:1x320,lstm:1x640,lstm:4x320";
  static int steps = 100, batch = 64, embed = 32, warmup = 5;
  static bool probe = false, peak = false, memory = false;
  cmd->add_option("--configs", configs, "comma-separated CELL:LAYERSxHIDDEN")->capture_default_str();
  cmd->add_option("--steps", steps)->capture_default_str();
  cmd->add_option("--batch", batch)->capture_default_str();
  cmd->add_option("--embed", embed)->capture_default_str();
  cmd->add_flag("--peak", peak, "also measure the sgemm peak");
  cmd->add_flag("--probe", probe, "time the joint probe against training decoders one by one");
  cmd->add_flag("--ptb-memory", memory, "peak memory of LSTM 1x640 training steps on PTB's longest batch");
  add_common(cmd);
  cmd->callback([] {
    if (memory) {  // run alone, so the process's peak RSS is this measurement's
      Corpus ptb = load_corpus("ptb");
      // The `batch` longest sentences (the worst batch training can meet), and a middling one.
      std::vector<int> order(ptb.train.size());
      for (size_t i = 0; i < order.size(); ++i) order[i] = (int)i;
      std::stable_sort(order.begin(), order.end(), [&](int a, int b) { return ptb.train[a].size() > ptb.train[b].size(); });
      std::vector<int> longest(order.begin(), order.begin() + batch), middle(order.begin() + order.size() / 2,
                                                                             order.begin() + order.size() / 2 + batch);
      CharLMConfig cfg = parse_config("lstm:1x640", embed);
      Rng rng(1);
      CharLM model(cfg, rng);
      auto params = model.parameters();
      Adam adam(params, 2e-3f);
      int T = 0;
      for (auto* idx : {&longest, &middle, &longest}) {
        Batch b = make_batch(ptb.train, *idx);
        T = std::max(T, b.T);
        Var loss = model.loss(b, nullptr);
        zero_grad(params);
        backward(loss);
        adam.step();
      }
      struct rusage ru;
      getrusage(RUSAGE_SELF, &ru);
      nlohmann::json out = {{"ptb_lstm_1x640_peak_rss_mib", ru.ru_maxrss / 1024.0}, {"longest_T", T}, {"batch", batch}};
      std::fprintf(stderr, "memsig LSTM 1x640 on PTB's longest batch (T=%d, B=%d): peak RSS %.0f MiB\n", T, batch,
                   ru.ru_maxrss / 1024.0);
      std::printf("%s\n", out.dump().c_str());
      return;
    }
    Corpus corpus = load_corpus("shakespeare");
    auto batches = bench_batches(corpus.train, batch, steps + warmup);
    nlohmann::json out = {{"threads", get_threads()}};
    if (peak) out["sgemm_peak_gflops"] = sgemm_peak_gflops();
    std::stringstream ss(configs);
    std::string item;
    while (std::getline(ss, item, ',')) {
      if (item.empty()) continue;
      CharLMConfig cfg = parse_config(item, embed);
      Rng rng(1);
      CharLM model(cfg, rng);
      auto params = model.parameters();
      Adam adam(params, 2e-3f);
      double chars = 0, flops = 0, t_train = 0, t_infer = 0;
      for (int i = 0; i < steps + warmup; ++i) {  // training steps
        auto t = Clock::now();
        Var loss = model.loss(batches[i], nullptr);
        zero_grad(params);
        backward(loss);
        clip_grad_norm(params, 5.0f);
        adam.step();
        if (i >= warmup) {
          t_train += since(t);
          chars += batches[i].n_targets;
          flops += 3 * forward_flops(cfg, batches[i]);  // backward = 2 forwards
        }
      }
      {
        NoGrad no_grad;
        for (int i = 0; i < steps + warmup; ++i) {
          auto t = Clock::now();
          model.loss(batches[i], nullptr);
          if (i >= warmup) t_infer += since(t);
        }
      }
      out["configs"][item] = {{"train_chars_per_s", chars / t_train}, {"infer_chars_per_s", chars / t_infer},
                              {"train_gflops", flops / t_train / 1e9}, {"train_seconds", t_train}, {"chars", chars}};
      std::fprintf(stderr, "memsig %-11s train %8.0f chars/s  infer %8.0f chars/s  %.1f GFLOP/s\n", item.c_str(),
                   chars / t_train, chars / t_infer, flops / t_train / 1e9);
    }
    if (probe) {
      // A 1x320 GRU (untrained weights: timing does not depend on them), D = 10, every epoch run
      // (no early stop) so that all variants do the same number of epochs.
      CharLMConfig cfg;
      Rng rng(1);
      CharLM model(cfg, rng);
      StateOptions so_train, so_valid;
      so_train.max_positions = 50000;
      so_valid.max_positions = 10000;
      ProbeOptions po;
      po.max_epochs = 3;
      po.patience = 100;
      po.quiet = true;
      const int D = so_train.max_delta;
      // memsig: one pass over the corpus for the states, then all D decoders in one bank.
      auto t = Clock::now();
      StateSet train = extract_states(model, corpus.train, so_train);
      StateSet valid = extract_states(model, corpus.valid, so_valid);
      double extract = since(t);
      t = Clock::now();
      probe_layer(train, valid, valid, 0, po);
      double joint_train = since(t);
      // The decoders one after another on the states already extracted (training alone).
      t = Clock::now();
      probe_layer_one_by_one(train, valid, 0, po);
      double serial_train = since(t);
      // One after another, each with its own pass over the corpus (what a probe per lag costs when
      // states are streamed rather than all kept: the state extraction is paid D times).
      t = Clock::now();
      for (int d = 1; d <= D; ++d) {
        StateSet tr = extract_states(model, corpus.train, so_train);
        StateSet va = extract_states(model, corpus.valid, so_valid);
        probe_layer_one_by_one(tr, va, 0, po, d);
      }
      double serial_passes = since(t);
      double joint = extract + joint_train;
      out["probe"] = {{"positions", train.n}, {"D", D}, {"epochs", po.max_epochs}, {"extract_seconds", extract},
                      {"joint_train_seconds", joint_train}, {"one_by_one_train_seconds", serial_train},
                      {"joint_seconds", joint}, {"one_by_one_passes_seconds", serial_passes},
                      {"speedup_train_only", serial_train / joint_train}, {"speedup", serial_passes / joint}};
      std::fprintf(stderr,
                   "memsig probe: %lld positions, D=%d, %d epochs: extraction %.2f s; decoder training joint %.2f s vs one by one "
                   "%.2f s (%.1fx); whole probe joint %.2f s vs one pass per decoder %.2f s (%.1fx)\n",
                   (long long)train.n, D, po.max_epochs, extract, joint_train, serial_train, serial_train / joint_train, joint,
                   serial_passes, serial_passes / joint);
    }
    std::printf("%s\n", out.dump().c_str());
  });
}

}  // namespace memsig::cli
