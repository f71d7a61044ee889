// cmd_lm.cpp — the language-model commands: train, eval, sample, corpus.
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "cli/options.h"
#include "cli/device_option.h"
#include "corpora/corpus.h"
#include "engine/files.h"
#include "engine/kernels.h"
#include "models/any_model.h"
#include "models/interpolate.h"
#include "models/model_file.h"
#include "models/sample.h"
#include "models/train_charlm.h"

namespace memsig::cli {

// What a model file holds, for errors: its kind's description ("LAS speech recognizer (...)").
static std::string kind_name(const AnyModel& m) {
  const ModelKind* k = find_model_kind(m.format);
  return (k ? k->description : "model") + " (" + m.format + ")";
}

void add_common(CLI::App* cmd) {
  cmd->add_option_function<int>("--threads", [](const int& n) { set_threads(n); },
                                "threads for BLAS and gate loops (default: all cores)")->check(integer_in(1, 1024));
}

void DataOptions::add_to(CLI::App* cmd) {
  auto* c = cmd->add_option("--corpus", corpus, "shakespeare | ptb | wsj:PATH | FILE");
  cmd->add_option("--split", split)->capture_default_str()->check(CLI::IsMember({"train", "valid", "test"}));
  auto* t = cmd->add_option("--text", text, "a plain text file, every line a segment");
  c->excludes(t);
}

std::vector<Segment> DataOptions::load() const {
  if (corpus.empty() && text.empty()) throw CLI::ValidationError("needs --corpus or --text");
  return text.empty() ? load_corpus(corpus).split(split) : read_segments(text);
}

std::string DataOptions::describe() const { return text.empty() ? corpus + ":" + split : text; }

std::vector<NamedPath> corpus_inputs(const std::string& option, const std::string& spec) {
  std::vector<NamedPath> out;
  if (!spec.empty())
    for (auto& f : corpus_files(spec)) out.push_back({option, f});
  return out;
}

std::vector<NamedPath> DataOptions::inputs() const {
  return text.empty() ? corpus_inputs("--corpus", corpus) : std::vector<NamedPath>{{"--text", text}};
}

void add_train(CLI::App& app) {
  auto* cmd = app.add_subcommand("train", "train a character LM (embedding -> LSTM/GRU stack -> projection)");
  static TrainOptions o;
  static std::string corpus = "shakespeare", cell = "gru";
  cmd->add_option("--corpus", corpus, "shakespeare | ptb | wsj:PATH | FILE")->capture_default_str();
  cmd->add_option("--cell", cell, cell_names())->capture_default_str();
  cmd->add_option("--layers", o.model.layers, "recurrent layers")->capture_default_str()->check(integer_in(1, kMaxConfigLayers));
  cmd->add_option("--hidden", o.model.hidden, "state size H")->capture_default_str()->check(integer_in(1, kMaxConfigHidden));
  cmd->add_option("--embed", o.model.embed, "embedding size E")->capture_default_str()->check(integer_in(1, kMaxConfigEmbed));
  static std::string factorized = "none", lambda = "causal";
  cmd->add_option("--factorized", factorized, "none | bigram: each layer's kernel W0 + sum_k lambda_k u_k v_k^T over 1156 bigram bases")
      ->capture_default_str()->check(CLI::IsMember({"none", "bigram"}));
  cmd->add_option("--lambda", lambda,
                  "with --factorized: causal (the normalised counts of the bigrams read so far in the segment, 0 before the first) | "
                  "domain (one fixed lambda per corpus, its training split's bigram distribution; the model stores it, and "
                  "eval/sample/states/signature use the one of the --corpus given; models/bigram_lambda.h)")
      ->capture_default_str()->check(CLI::IsMember({"causal", "domain"}));
  cmd->add_option("--dropout", o.model.dropout, "dropout on each layer's output")->capture_default_str()->check(real_in(0, 0.95));
  cmd->add_option("--epochs", o.epochs)->capture_default_str()->check(integer_in(1, 1000000));
  cmd->add_option("--batch", o.batch, "segments per batch")->capture_default_str()->check(integer_in(1, 65536));
  cmd->add_option("--lr", o.lr)->capture_default_str()->check(positive_real());
  cmd->add_option("--optimizer", o.optimizer, "adam | sgd")->capture_default_str()->check(CLI::IsMember({"adam", "sgd"}));
  cmd->add_option("--momentum", o.momentum, "SGD momentum")->capture_default_str()->check(real_in(0, 0.999));
  cmd->add_option("--clip", o.clip, "gradient-norm clip (0 = off)")->capture_default_str()->check(real_in(0, 1e30));
  cmd->add_option("--seed", o.seed)->capture_default_str()->check(integer_in(0, kNoLimit));
  cmd->add_option("--out", o.out, "model file (best on valid); checkpoint at OUT.ckpt")->required();
  cmd->add_flag("--resume", o.resume, "continue from OUT.ckpt (same model, data, seed, batch and optimizer)");
  cmd->add_flag("--allow-lr-change", o.allow_lr_change, "with --resume: continue with a different --lr");
  cmd->add_option("--init-from", o.init_from, "start from this model's weights (same architecture), e.g. to adapt it to new data");
  cmd->add_option("--max-minutes", o.max_minutes, "stop after this much training time")->capture_default_str()->check(real_in(0, 1e9));
  cmd->add_flag("--cpu-time", o.cpu_clock,
                "count --max-minutes in CPU time per thread: a paused job or one waiting for a busy core does not spend it");
  cmd->add_option("--max-steps", o.max_steps, "stop after this many steps (the same model whatever the machine's speed)")
      ->capture_default_str()->check(integer_in(0, kNoLimit));
  cmd->add_option("--eval-every", o.eval_every, "also validate every N steps")->capture_default_str()->check(integer_in(0, 1000000000));
  cmd->add_option("--log", o.log_csv, "write the learning curve (CSV)");
  cmd->add_flag("--quiet", o.quiet, "no progress lines");
  add_common(cmd);
  add_device(cmd);
  cmd->callback([] {
    o.model.cell = parse_cell(cell);
    o.model.factorized = factorized == "bigram" ? Factorized::Bigram : Factorized::None;
    if (lambda == "domain" && o.model.factorized == Factorized::None)
      throw CLI::ValidationError("--lambda domain needs --factorized bigram");
    o.model.lambda = lambda == "domain" ? LambdaMode::Domain : LambdaMode::Causal;
    check_loop_options(o);
    std::vector<NamedPath> in = corpus_inputs("--corpus", corpus);
    if (!o.init_from.empty()) in.push_back({"--init-from", o.init_from});
    check_outputs(in, {{"--out", o.out}, {"--out's checkpoint", o.out + ".ckpt"}, {"--log", o.log_csv}});
    TrainResult r = train_charlm(load_corpus(corpus), o);
    std::printf("best valid bpc %.4f  perplexity %.3f  (%.0f s, %lld chars, %.1fk chars/s)  model: %s\n", r.best_valid_bpc,
                r.best_valid_ppl, r.seconds, (long long)r.chars, r.chars / std::max(r.seconds, 1e-9) / 1000, o.out.c_str());
  });
}

void add_eval(CLI::App& app) {
  auto* cmd = app.add_subcommand("eval", "bits per character and perplexity of a model (char LM or .arpa n-gram) on a split or a text file");
  static std::string model_path, other_path;
  static DataOptions data;
  static bool as_json = false;
  static int batch = 64;
  cmd->add_option("--model", model_path, "a char LM (.safetensors) or an n-gram model (.arpa)")->required();
  data.add_to(cmd);
  cmd->add_option("--interpolate", other_path,
                  "a second model: mix the two per symbol, the weight chosen on valid, and report test (needs --corpus)");
  cmd->add_option("--batch", batch)->capture_default_str()->check(integer_in(1, 65536));
  cmd->add_flag("--json", as_json);
  add_common(cmd);
  add_device(cmd);
  cmd->callback([] {
    AnyModel model = load_any_model(model_path);
    if (!model.lm) throw FileError(model_path, "is a " + kind_name(model) + ", not a language model: nothing to evaluate");
    if (!other_path.empty()) {
      if (data.corpus.empty()) throw CLI::ValidationError("--interpolate needs --corpus (its weight is chosen on valid)");
      AnyModel other = load_any_model(other_path);
      if (!other.lm) throw FileError(other_path, "is a " + kind_name(other) + ", not a language model");
      Corpus c = load_corpus(data.corpus);
      select_corpus(model, model_path, c);
      select_corpus(other, other_path, c);
      Interpolation ip = interpolate(*model.lm, *other.lm, c.valid, c.test, batch);
      nlohmann::json j = {{"model", model_path}, {"other", other_path}, {"data", data.corpus + ":test"},
                          {"weight", ip.weight}, {"valid_bpc", ip.valid_bpc}, {"targets", ip.mixed.targets},
                          {"bpc", ip.mixed.bpc}, {"perplexity", ip.mixed.perplexity},
                          {"model_bpc", ip.a.bpc}, {"model_perplexity", ip.a.perplexity},
                          {"other_bpc", ip.b.bpc}, {"other_perplexity", ip.b.perplexity}};
      if (as_json) {
        std::printf("%s\n", j.dump().c_str());
      } else {
        std::printf("%s: test perplexity %.4f (%.4f bpc)\n%s: test perplexity %.4f (%.4f bpc)\n"
                    "mixture %.2f x first + %.2f x second (weight chosen on valid): test perplexity %.4f (%.4f bpc), %lld targets\n",
                    model_path.c_str(), ip.a.perplexity, ip.a.bpc, other_path.c_str(), ip.b.perplexity, ip.b.bpc, ip.weight,
                    1 - ip.weight, ip.mixed.perplexity, ip.mixed.bpc, (long long)ip.mixed.targets);
      }
      return;
    }
    if (data.corpus.empty() && data.text.empty()) throw CLI::ValidationError("needs --corpus or --text");
    std::string source = data.describe();
    EvalResult r;
    if (!data.corpus.empty()) {  // batches name each segment's corpus (a domain-λ model reads a mixture so)
      Corpus c = load_corpus(data.corpus);
      select_corpus(model, model_path, c);
      r = evaluate_corpus(*model.lm, c, data.split, batch);
    } else {
      Corpus text;  // a --text file: a corpus named by the file (a domain-λ model has no λ for it)
      text.name = std::filesystem::path(data.text).filename().string();
      text.train = read_segments(data.text);
      select_corpus(model, model_path, text);
      r = evaluate(*model.lm, text.train, batch);
    }
    if (r.targets == 0) throw std::invalid_argument(source + ": no text to evaluate (the split is empty)");
    if (!std::isfinite(r.bpc))
      throw FileError(model_path, "gives non-finite log-probabilities on " + source + " (bpc " + std::to_string(r.bpc) +
                                      "): its weights are broken");
    if (as_json) {
      nlohmann::json j = {{"model", model_path}, {"data", source}, {"bpc", r.bpc}, {"perplexity", r.perplexity},
                          {"targets", r.targets}};
      std::printf("%s\n", j.dump().c_str());
    } else {
      std::printf("%s on %s: %.4f bpc, perplexity %.4f (%lld targets)\n", model_path.c_str(), source.c_str(), r.bpc,
                  r.perplexity, (long long)r.targets);
    }
  });
}

void add_sample(CLI::App& app) {
  auto* cmd = app.add_subcommand("sample", "generate text from a model");
  static std::string model_path, prime, corpus;
  static int length = 300, count = 5;
  static float temperature = 0.8f;
  static uint64_t seed = 1;
  cmd->add_option("--model", model_path)->required();
  cmd->add_option("--prime", prime, "text to start from")->capture_default_str();
  cmd->add_option("--corpus", corpus, "a domain-lambda factorized model: the corpus whose training lambda to use (one it was trained on)");
  cmd->add_option("--length", length, "max symbols per line")->capture_default_str()->check(integer_in(1, 1000000));
  cmd->add_option("--lines", count, "segments to generate")->capture_default_str()->check(integer_in(1, 1000000));
  cmd->add_option("--temperature", temperature)->capture_default_str()->check(real_in(0, 100, true));
  cmd->add_option("--seed", seed)->capture_default_str()->check(integer_in(0, kNoLimit));
  add_common(cmd);
  cmd->callback([] {
    AnyModel any = load_any_model(model_path);  // a char LM; other kinds are named in the error
    if (any.format != "memsig-charlm" && any.format != kFactorizedFormat)
      throw FileError(model_path, "is a " + kind_name(any) + ", not a char LM: nothing to sample");
    select_corpus_name(any, model_path, corpus);  // a domain-lambda model samples with that corpus's lambda
    auto model = any.as<CharLM>();
    Rng rng(seed);
    for (int i = 0; i < count; ++i) std::printf("%s\n", sample_text(*model, rng, prime, length, temperature).c_str());
  });
}

void add_corpus(CLI::App& app) {
  auto* cmd = app.add_subcommand("corpus", "show a corpus's splits, or write one split as symbol ids");
  static std::string corpus = "shakespeare", split, out;
  cmd->add_option("--corpus", corpus)->capture_default_str();
  cmd->add_option("--split", split, "with --out: train | valid | test");
  cmd->add_option("--out", out, "write the split, one segment a line as space-separated symbol ids");
  cmd->callback([] {
    if (!out.empty()) check_outputs(corpus_inputs("--corpus", corpus), {{"--out", out}});
    Corpus c = load_corpus(corpus);
    if (out.empty()) {
      for (const char* s : {"train", "valid", "test"})
        std::printf("%s %s: %zu segments, %lld targets\n", c.name.c_str(), s, c.split(s).size(),
                    (long long)count_symbols(c.split(s)));
      return;
    }
    std::string text;
    for (auto& seg : c.split(split.empty() ? "train" : split)) {
      for (size_t i = 0; i < seg.size(); ++i) text += (i ? " " : "") + std::to_string(seg[i]);
      text += "\n";
    }
    write_text_atomically(out, text);
  });
}

}  // namespace memsig::cli
