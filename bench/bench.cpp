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
#include "probe/signature.h"
#include "models/any_model.h"

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

double cpu_seconds() {  // user + system time of every thread of this process so far
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  return ru.ru_utime.tv_sec + ru.ru_utime.tv_usec * 1e-6 + ru.ru_stime.tv_sec + ru.ru_stime.tv_usec * 1e-6;
}

nlohmann::json bench_probe(const Corpus& corpus, const std::string& model_path, bool autograd_bank, bool stop_together) {
  // `memsig signature` at its defaults on one layer: 200,000 training positions, 100,000 valid
  // and test, lags 1..10, 1x64 ReLU decoders, Adam, up to 20 epochs, patience 3. The model is
  // Figure 1's kind (a trained 1x320 GRU from --probe-model; untrained weights otherwise, which
  // changes how many epochs early stopping runs, not the cost of one).
  std::shared_ptr<const CharLM> model;
  if (!model_path.empty()) {
    AnyModel any = load_any_model(model_path);
    if (any.format != "memsig-charlm" && any.format != "memsig-charlm-factorized")
      throw std::invalid_argument(model_path + ": the probe bench needs a character LM");
    model = any.as<CharLM>();
  } else {
    Rng rng(1);
    model = std::make_shared<CharLM>(CharLMConfig{}, rng);
  }
  CharLMSource source(model);
  SignatureOptions defaults;
  StateOptions so = defaults.states;
  so.entries = {0};
  ProbeOptions po = defaults.probe;
  po.quiet = true;
  po.autograd_bank = autograd_bank;  // with the earlier protocol: the probe as it was before the fused bank
  po.stop_together = autograd_bank || stop_together;
  const std::string bank = std::string(autograd_bank ? "autograd" : "fused") +
                           (po.stop_together ? ", stopping together" : ", stopping per decoder");
  auto t = Clock::now();
  double c = cpu_seconds();
  so.max_positions = defaults.max_train_positions;
  StateSet train = extract_states(source, corpus.train, so);
  so.max_positions = defaults.max_eval_positions;
  StateSet valid = extract_states(source, corpus.valid, so);
  StateSet test = extract_states(source, corpus.test, so);
  double extract = since(t), extract_cpu = cpu_seconds() - c;
  t = Clock::now();
  c = cpu_seconds();
  auto lags = probe_entry(train, valid, test, 0, po);
  double decoders = since(t), decoders_cpu = cpu_seconds() - c;
  nlohmann::json acc = nlohmann::json::array(), lo = acc, hi = acc, epochs = acc;
  for (auto& r : lags) { acc.push_back(r.accuracy); lo.push_back(r.ci_lo); hi.push_back(r.ci_hi); epochs.push_back(r.epochs); }
  std::fprintf(stderr,
               "memsig probe (%s bank): %lld positions, L=%zu: extraction %.2f s (%.2f s CPU), decoders %.2f s (%.2f s CPU), "
               "total %.2f s (%.2f s CPU)\n",
               bank.c_str(), (long long)train.n, lags.size(), extract, extract_cpu, decoders,
               decoders_cpu, extract + decoders, extract_cpu + decoders_cpu);
  return {{"positions", train.n}, {"lags", lags.size()}, {"bank", bank},
          {"max_epochs", po.max_epochs}, {"patience", po.patience}, {"best_epochs", epochs},
          {"extract_seconds", extract}, {"train_seconds", decoders}, {"total_seconds", extract + decoders},
          {"extract_cpu_seconds", extract_cpu}, {"train_cpu_seconds", decoders_cpu},
          {"total_cpu_seconds", extract_cpu + decoders_cpu}, {"test_accuracy", acc}, {"ci_lo", lo}, {"ci_hi", hi}};
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
