// cmd_ngram.cpp — the n-gram commands: ngram train, ngram eval, ngram memory.
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "cli/options.h"
#include "corpora/corpus.h"
#include "models/arpa.h"
#include "probe/perfect_memory.h"

namespace memsig::cli {

namespace {

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

void add_ngram_train(CLI::App* parent) {
  auto* cmd = parent->add_subcommand("train", "count and smooth a character n-gram LM (modified Kneser-Ney), write it as ARPA");
  static std::string corpus = "shakespeare", out;
  static int order = 5;
  cmd->add_option("--corpus", corpus, "shakespeare | ptb | wsj:PATH | FILE")->capture_default_str();
  cmd->add_option("--order", order, "N: the longest n-gram")->capture_default_str()->check(integer_in(1, kMaxNgramOrder));
  cmd->add_option("--out", out, "the ARPA file to write")->required();
  cmd->callback([] {
    check_outputs(corpus_inputs("--corpus", corpus), {{"--out", out}});
    Corpus c = load_corpus(corpus);
    std::fprintf(stderr, "corpus %s: %zu/%zu/%zu segments, %lld training targets\n", c.name.c_str(), c.train.size(),
                 c.valid.size(), c.test.size(), (long long)count_symbols(c.train));
    auto t0 = std::chrono::steady_clock::now();
    NgramLM lm;
    lm.train(c.train, order);
    double build = seconds_since(t0);
    std::printf("built a %d-gram model in %.2f s (%lld automaton states)\n", order, build, (long long)lm.num_states());
    std::printf("order  n-grams      n1       n2       n3       n4       D1      D2      D3+\n");
    for (int k = 1; k <= order; ++k) {
      const NgramDiscounts& d = lm.discounts()[k];
      std::printf("%5d  %9zu  %7lld  %7lld  %7lld  %7lld  %.4f  %.4f  %.4f\n", k, lm.ngrams(k).size(), (long long)d.n[1],
                  (long long)d.n[2], (long long)d.n[3], (long long)d.n[4], d.d1, d.d2, d.d3);
    }
    for (int k = 1; k <= order; ++k)
      if (!lm.discounts()[k].fallback.empty())
        std::printf("order %d falls back: %s\n", k, lm.discounts()[k].fallback.c_str());
    NgramScore v = lm.score(c.valid);
    std::printf("valid: %.4f bpc, perplexity %.4f (%lld targets)\n", v.bpc(), v.perplexity(), (long long)v.targets);
    t0 = std::chrono::steady_clock::now();
    write_arpa(out, lm);
    std::printf("wrote %s (%.1f MB) in %.2f s\n", out.c_str(), std::filesystem::file_size(out) / 1e6, seconds_since(t0));
  });
}

void add_ngram_eval(CLI::App* parent) {
  auto* cmd = parent->add_subcommand("eval", "bits per character and perplexity of an ARPA model on a split or a text file");
  static std::string model_path, corpus, split = "test", text;
  static bool as_json = false, timing = false;
  cmd->add_option("--model", model_path, "an ARPA file")->required();
  auto* c = cmd->add_option("--corpus", corpus, "shakespeare | ptb | wsj:PATH | FILE");
  cmd->add_option("--split", split)->capture_default_str()->check(CLI::IsMember({"train", "valid", "test"}));
  auto* t = cmd->add_option("--text", text, "a plain text file, every line a segment");
  c->excludes(t);
  cmd->add_flag("--json", as_json);
  cmd->add_flag("--timing", timing, "also report load time and scoring speed (on stderr)");
  cmd->callback([] {
    if (corpus.empty() && text.empty()) throw CLI::ValidationError("ngram eval needs --corpus or --text");
    auto t0 = std::chrono::steady_clock::now();
    NgramLM lm = read_arpa(model_path);
    double load = seconds_since(t0);
    std::vector<Segment> segs = text.empty() ? load_corpus(corpus).split(split) : read_segments(text);
    t0 = std::chrono::steady_clock::now();
    NgramScore r = lm.score(segs);
    double scoring = seconds_since(t0);
    if (timing) {
      // Scoring one pass takes milliseconds: repeat it for a second to time it.
      int reps = 1;
      while (scoring < 1.0) {
        reps *= 2;
        t0 = std::chrono::steady_clock::now();
        for (int i = 0; i < reps; ++i) r = lm.score(segs);
        scoring = seconds_since(t0);
      }
      std::fprintf(stderr, "loaded %s in %.2f s; scored %lld targets %d times in %.3f s: %.1fM symbols/s\n",
                   model_path.c_str(), load, (long long)r.targets, reps, scoring, r.targets * reps / scoring / 1e6);
    }
    std::string source = text.empty() ? corpus + ":" + split : text;
    if (!std::isfinite(r.bpc()))  // as `eval` says it
      throw FileError(model_path, "gives non-finite log-probabilities on " + source + ": the model is broken");
    if (as_json) {
      nlohmann::json j = {{"model", model_path}, {"data", source}, {"bpc", r.bpc()}, {"perplexity", r.perplexity()},
                          {"targets", r.targets}};
      std::printf("%s\n", j.dump().c_str());
    } else {
      std::printf("%s on %s: %.4f bpc, perplexity %.4f (%lld targets)\n", model_path.c_str(), source.c_str(), r.bpc(),
                  r.perplexity(), (long long)r.targets);
    }
  });
}

void add_ngram_memory(CLI::App* parent) {
  auto* cmd = parent->add_subcommand("memory", "the perfect-memory reference: recall of x_{t-d} from the last k inputs");
  static std::string corpus = "shakespeare";
  static int max_k = 5, max_delta = 10;
  static bool as_json = false;
  cmd->add_option("--corpus", corpus, "shakespeare | ptb | wsj:PATH | FILE")->capture_default_str();
  cmd->add_option("--max-k", max_k, "K: windows of 1..K inputs")->capture_default_str()->check(integer_in(1, 10));
  cmd->add_option("--max-delta", max_delta, "D: lags 1..D")->capture_default_str()->check(integer_in(1, 100));
  cmd->add_flag("--json", as_json);
  cmd->callback([] {
    Corpus c = load_corpus(corpus);
    PerfectMemory pm = perfect_memory(c.train, c.test, max_k, max_delta);
    if (as_json) {
      nlohmann::json acc = nlohmann::json::array();
      for (int k = 0; k <= pm.K; ++k)
        acc.push_back(std::vector<double>(pm.accuracy[k].begin() + 1, pm.accuracy[k].end()));
      nlohmann::json j = {{"data", corpus + ":test"}, {"k", pm.K}, {"delta", pm.D}, {"accuracy", acc},
                          {"count", std::vector<int64_t>(pm.count.begin() + 1, pm.count.end())}};
      std::printf("%s\n", j.dump().c_str());
      return;
    }
    std::printf("perfect memory of the last k inputs on %s:test, accuracy of x_{t-d} (k = 0: most frequent)\n",
                corpus.c_str());
    std::printf("   d");
    for (int k = 0; k <= pm.K; ++k) std::printf("   k=%-3d", k);
    std::printf("  targets\n");
    for (int d = 1; d <= pm.D; ++d) {
      std::printf("%4d", d);
      for (int k = 0; k <= pm.K; ++k) std::printf("  %.4f", pm.accuracy[k][d]);
      std::printf("  %lld\n", (long long)pm.count[d]);
    }
  });
}

}  // namespace

void add_ngram(CLI::App& app) {
  auto* cmd = app.add_subcommand("ngram", "character n-gram LMs (modified Kneser-Ney, ARPA files) and the perfect-memory reference");
  cmd->require_subcommand(1);
  add_ngram_train(cmd);
  add_ngram_eval(cmd);
  add_ngram_memory(cmd);
}

}  // namespace memsig::cli
