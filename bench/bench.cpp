#include "bench/bench.h"

#include "engine/numbers.h"

#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <stdexcept>

#include "engine/kernels.h"
#include "engine/optim.h"
#include "models/sample.h"
#include "probe/charlm_source.h"
#include "probe/decoders.h"

namespace memsig {

namespace {

using Clock = std::chrono::steady_clock;
double since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

// Multiply-adds x 2 of one forward pass over a batch: input projections, recurrences, output layer
// (of the base kernel only: a factorized model's low-rank term is not counted).
double forward_flops(const CharLMConfig& c, const Batch& b) {
  double rows = (double)b.T * b.B, G = gate_count(c.cell), H = c.hidden, f = 0;
  for (int l = 0; l < c.layers; ++l) f += 2 * rows * G * H * ((l ? H : c.embed) + H);
  return f + 2 * rows * c.vocab * H;
}

}  // namespace

CharLMConfig parse_bench_config(const std::string& spec, int embed) {
  // A trailing ":bigram" asks for the bigram-factorized model of that shape (models/charlm.h).
  const std::string suffix = ":bigram";
  const bool factorized = spec.size() > suffix.size() && spec.compare(spec.size() - suffix.size(), suffix.size(), suffix) == 0;
  const std::string s = factorized ? spec.substr(0, spec.size() - suffix.size()) : spec;
  const std::string form = "config '" + spec + "' is not CELL:LAYERSxHIDDEN[:bigram] (e.g. lstm:1x320)";
  auto colon = s.find(':'), x = s.find('x', colon == std::string::npos ? 0 : colon);
  if (colon == std::string::npos || x == std::string::npos) throw std::invalid_argument(form);
  CharLMConfig c;
  c.cell = parse_cell(s.substr(0, colon));
  int64_t layers = 0, hidden = 0;
  if (!parse_integer(s.substr(colon + 1, x - colon - 1), layers) || !parse_integer(s.substr(x + 1), hidden))
    throw std::invalid_argument(form);
  c.layers = (int)std::max<int64_t>(std::min<int64_t>(layers, 1 << 30), -1);
  c.hidden = (int)std::max<int64_t>(std::min<int64_t>(hidden, 1 << 30), -1);
  c.embed = embed;
  if (factorized) c.factorized = Factorized::Bigram;
  try {
    check_config(c);
  } catch (const std::invalid_argument& e) {
    throw std::invalid_argument("config '" + spec + "': " + e.what());
  }
  return c;
}

std::vector<std::pair<std::string, CharLMConfig>> parse_bench_configs(const std::string& list, int embed) {
  std::vector<std::pair<std::string, CharLMConfig>> out;
  size_t at = 0;
  while (true) {
    size_t comma = list.find(',', at);
    std::string item = list.substr(at, comma == std::string::npos ? std::string::npos : comma - at);
    if (item.empty()) throw std::invalid_argument("--configs '" + list + "' has an empty item");
    out.emplace_back(item, parse_bench_config(item, embed));
    if (comma == std::string::npos) break;
    at = comma + 1;
  }
  return out;
}

std::vector<Batch> bench_batches(const std::vector<Segment>& segs, int batch, int steps) {
  auto buckets = length_buckets(segs, batch);
  std::vector<Batch> out;
  for (int i = 0; i < steps; ++i) out.push_back(make_batch(segs, buckets[(size_t)i * buckets.size() / steps]));
  return out;
}

nlohmann::json bench_throughput(const CharLMConfig& cfg, const std::vector<Batch>& batches, int warmup) {
  Rng rng(1);
  CharLM model(cfg, rng);
  Adam adam(model.parameters(), 2e-3f);
  double chars = 0, flops = 0, t_train = 0, t_infer = 0;
  for (size_t i = 0; i < batches.size(); ++i) {  // training steps
    auto t = Clock::now();
    train_step(adam, model.loss(batches[i], nullptr), 5.0f);
    if ((int)i >= warmup) {
      t_train += since(t);
      chars += batches[i].n_targets;
      flops += 3 * forward_flops(cfg, batches[i]);  // backward = 2 forwards
    }
  }
  {
    NoGrad no_grad;
    for (size_t i = 0; i < batches.size(); ++i) {
      auto t = Clock::now();
      model.loss(batches[i], nullptr);
      if ((int)i >= warmup) t_infer += since(t);
    }
  }
  return {{"train_chars_per_s", chars / t_train}, {"infer_chars_per_s", chars / t_infer},
          {"train_gflops", flops / t_train / 1e9}, {"train_seconds", t_train}, {"chars", chars}};
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

nlohmann::json bench_probe(const Corpus& corpus) {
  // A 1x320 GRU (untrained weights: timing does not depend on them), L = 10, every epoch run
  // (no early stop) so that all variants do the same number of epochs.
  CharLMConfig cfg;
  Rng rng(1);
  CharLMSource source(std::make_shared<CharLM>(cfg, rng));
  StateOptions so_train, so_valid;
  so_train.max_positions = 50000;
  so_valid.max_positions = 10000;
  ProbeOptions po;
  po.max_epochs = 3;
  po.patience = 100;
  po.quiet = true;
  const int L = so_train.max_lag;
  // memsig: one pass over the corpus for the states, then all L decoders in one bank.
  auto t = Clock::now();
  StateSet train = extract_states(source, corpus.train, so_train);
  StateSet valid = extract_states(source, corpus.valid, so_valid);
  double extract = since(t);
  t = Clock::now();
  probe_layer(train, valid, valid, 0, po);
  double joint_train = since(t);
  // The decoders one after another on the states already extracted (training alone).
  t = Clock::now();
  probe_layer_one_by_one(train, valid, 0, po);
  double serial_train = since(t);
  // One after another, each with its own pass over the corpus (what a probe per lag costs when
  // states are streamed rather than all kept: the state extraction is paid L times).
  t = Clock::now();
  for (int d = 1; d <= L; ++d) {
    StateSet tr = extract_states(source, corpus.train, so_train);
    StateSet va = extract_states(source, corpus.valid, so_valid);
    probe_layer_one_by_one(tr, va, 0, po, d);
  }
  double serial_passes = since(t);
  double joint = extract + joint_train;
  std::fprintf(stderr,
               "memsig probe: %lld positions, L=%d, %d epochs: extraction %.2f s; decoder training joint %.2f s vs one by one "
               "%.2f s (%.1fx); whole probe joint %.2f s vs one pass per decoder %.2f s (%.1fx)\n",
               (long long)train.n, L, po.max_epochs, extract, joint_train, serial_train, serial_train / joint_train, joint,
               serial_passes, serial_passes / joint);
  return {{"positions", train.n}, {"lags", L}, {"epochs", po.max_epochs}, {"extract_seconds", extract},
          {"joint_train_seconds", joint_train}, {"one_by_one_train_seconds", serial_train},
          {"joint_seconds", joint}, {"one_by_one_passes_seconds", serial_passes},
          {"speedup_train_only", serial_train / joint_train}, {"speedup", serial_passes / joint}};
}

nlohmann::json bench_ptb_memory(int batch, int embed) {
  Corpus ptb = load_corpus("ptb");
  // The `batch` longest sentences (the worst batch training can meet), and a middling one.
  std::vector<int> order(ptb.train.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = (int)i;
  std::stable_sort(order.begin(), order.end(), [&](int a, int b) { return ptb.train[a].size() > ptb.train[b].size(); });
  std::vector<int> longest(order.begin(), order.begin() + batch),
      middle(order.begin() + order.size() / 2, order.begin() + order.size() / 2 + batch);
  CharLMConfig cfg = parse_bench_config("lstm:1x640", embed);
  Rng rng(1);
  CharLM model(cfg, rng);
  Adam adam(model.parameters(), 2e-3f);
  int T = 0;
  for (auto* idx : {&longest, &middle, &longest}) {
    Batch b = make_batch(ptb.train, *idx);
    T = std::max(T, b.T);
    train_step(adam, model.loss(b, nullptr), 0.0f);
  }
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  std::fprintf(stderr, "memsig LSTM 1x640 on PTB's longest batch (T=%d, B=%d): peak RSS %.0f MiB\n", T, batch,
               ru.ru_maxrss / 1024.0);
  return {{"ptb_lstm_1x640_peak_rss_mib", ru.ru_maxrss / 1024.0}, {"longest_T", T}, {"batch", batch}};
}

nlohmann::json bench_sampling(const CharLMConfig& cfg, int steps) {
  Rng init(1), rng(2);
  CharLM model(cfg, init);
  sample_text(model, rng, "", 20, 1.0f);  // warm up
  int done = 0;
  auto t = Clock::now();
  while (done < steps) done += (int)sample_text(model, rng, "", steps - done, 1.0f).size() + 1;  // + the </s> step
  double secs = since(t);
  std::fprintf(stderr, "memsig sampling %s at batch 1: %.0f symbols/s\n", model.describe().c_str(), done / secs);
  return {{"sample_symbols_per_s", done / secs}, {"steps", done}};
}

}  // namespace memsig
