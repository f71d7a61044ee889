// cmd_probe.cpp — the memory-signature commands: signature, diff, figure.
#include <cstdio>
#include <sstream>

#include "cli/commands.h"
#include "engine/files.h"
#include "corpora/corpus.h"
#include "figures/figures.h"
#include "figures/signature_plots.h"
#include "models/model_file.h"
#include "probe/sources.h"
#include "probe/las_source.h"
#include "probe/signature.h"

namespace memsig::cli {

namespace {
std::vector<int> parse_layers(const std::string& spec, int n_layers) {
  std::vector<int> out;
  if (spec == "all") return out;
  std::stringstream ss(spec);
  std::string item;
  while (std::getline(ss, item, ',')) {
    int l = 0;
    try { l = std::stoi(item); } catch (...) { throw CLI::ValidationError("--layers: '" + item + "' is not a layer number"); }
    if (l < 1 || l > n_layers)
      throw CLI::ValidationError("--layers: layer " + item + " does not exist (the model has " + std::to_string(n_layers) + ")");
    for (int seen : out)
      if (seen == l - 1) throw CLI::ValidationError("--layers: layer " + item + " is named twice");
    out.push_back(l - 1);
  }
  return out;
}
}  // namespace

void add_signature(CLI::App& app) {
  auto* cmd = app.add_subcommand("signature", "memory signature: probe what each layer's state remembers of past inputs");
  static std::string model_path, corpus, train, valid, test, layers = "all", state, out, speech;
  static SignatureOptions o;
  cmd->add_option("--model", model_path, "a char LM (.safetensors) or an n-gram model (.arpa)")->required();
  auto* c = cmd->add_option("--corpus", corpus, "shakespeare | ptb | wsj:PATH | FILE");
  auto* tr = cmd->add_option("--train", train, "training split file (with --valid and --test)");
  cmd->add_option("--valid", valid);
  cmd->add_option("--test", test);
  c->excludes(tr);
  auto* sp = cmd->add_option("--data", speech, "a speech set DIR (train/, valid/, test/ data directories) for a LAS model");
  sp->excludes(c);
  sp->excludes(tr);
  cmd->add_option("--layers", layers, "all, or 1-based layer numbers: 1,3")->capture_default_str();
  cmd->add_option("--max-lag,--max-delta", o.states.max_lag, "L: decoders for lags 1..L")->capture_default_str()->check(CLI::Range(1, 100));
  cmd->add_option("--state", state, "c | h | ch (LSTM; default c), h (GRU)");
  cmd->add_option("--max-positions", o.max_train_positions, "training positions kept (random subsample)")->capture_default_str();
  cmd->add_option("--max-eval-positions", o.max_eval_positions, "valid/test positions kept")->capture_default_str();
  cmd->add_option("--decoder-hidden", o.probe.hidden, "units per decoder hidden layer")->capture_default_str()->check(CLI::PositiveNumber);
  cmd->add_option("--decoder-depth", o.probe.depth, "hidden layers per decoder (0 = linear)")->capture_default_str()->check(CLI::Range(0, 4));
  cmd->add_option("--keep-prob", o.probe.keep_prob, "dropout keep probability")->capture_default_str()->check(CLI::Range(0.1, 1.0));
  cmd->add_flag("--sweep-dropout", o.probe.sweep_dropout, "try keep 0.5..1.0 by 0.1, pick per decoder on valid");
  cmd->add_option("--epochs", o.probe.max_epochs, "max decoder epochs")->capture_default_str()->check(CLI::PositiveNumber);
  cmd->add_option("--patience", o.probe.patience, "early-stopping patience (epochs)")->capture_default_str();
  cmd->add_option("--lr", o.probe.lr)->capture_default_str();
  cmd->add_flag("--control", o.control, "also probe an untrained copy of the model");
  cmd->add_option("--perfect-memory", o.perfect_memory_k, "reference: perfect memory of the last k = 1..K inputs (0 = none)")
      ->capture_default_str()->check(CLI::Range(0, 10));
  cmd->add_option("--seed", o.states.seed)->capture_default_str();
  cmd->add_option("--out", out, "output folder")->required();
  cmd->add_flag("--quiet", o.quiet);
  add_common(cmd);
  cmd->callback([] {
    if (corpus.empty() && speech.empty() && (train.empty() || valid.empty() || test.empty()))
      throw CLI::ValidationError("signature needs --corpus, or --train, --valid and --test (--data for a LAS model)");
    std::unique_ptr<StateSource> source_ptr;
    Corpus data;
    if (!speech.empty()) {  // a speech model on a speech set
      std::shared_ptr<const LAS> las = load_las(model_path);
      source_ptr = las_state_source(las);
      data = speech_corpus(*las, speech, o.quiet);
    } else {
      if (file_exists(model_path) && model_path.size() > 12 &&
          model_path.compare(model_path.size() - 12, 12, ".safetensors") == 0 &&
          is_las_file(load_safetensors(model_path).metadata))
        throw FileError(model_path, "is a LAS speech model: give its speech set with --data DIR");
      source_ptr = state_source(load_any_model(model_path), state);
      data = corpus.empty() ? load_split_files(train, valid, test) : load_corpus(corpus);
    }
    const StateSource& source = *source_ptr;
    o.states.entries = parse_layers(layers, (int)source.entries().size());
    o.probe.seed = o.states.seed;
    o.probe.quiet = o.quiet;
    o.checkpoint = out + "/signature.partial.json";
    check_probe_options(o.probe);
    make_dirs(out);
    Signature sig = compute_signature(source, data, o);
    write_signature_files(sig, out, source.describe() + " on " + data.name);
    std::remove(o.checkpoint.c_str());
    for (auto& l : sig.trained.layers) {
      std::printf("%s (%s) test accuracy by lag:", l.name.c_str(), l.state.c_str());
      for (auto& r : l.lags) std::printf(" %.3f", r.accuracy);
      std::printf("\n");
      if (!l.memory_equivalent_k.empty()) {
        std::printf("%s: smallest k whose perfect memory of the last k inputs decodes as well (0: none up to %d):", l.name.c_str(),
                    sig.perfect->K);
        for (int k : l.memory_equivalent_k) std::printf(" %d", k);
        std::printf("\n");
      }
    }
    std::printf("wrote %s/signature.json, signature_l*.png, marginal.png and CSVs\n", out.c_str());
  });
}

void add_diff(CLI::App& app) {
  auto* cmd = app.add_subcommand("diff", "B minus A: difference of two memory signatures, on a diverging map");
  static std::string a, b, out, title = "memory signature difference (B - A)";
  static int bootstrap = 1000;
  cmd->add_option("A", a, "signature.json (FILE:control for its untrained control)")->required();
  cmd->add_option("B", b, "signature.json (FILE:control for its untrained control)")->required();
  cmd->add_option("--out", out, "PNG")->required();
  cmd->add_option("--title", title)->capture_default_str();
  cmd->add_option("--bootstrap", bootstrap, "paired bootstrap resamples over the shared test positions (0 = none)")
      ->capture_default_str()->check(CLI::Range(0, 100000));
  cmd->callback([] {
    Signature sa = load_signature_spec(a), sb = load_signature_spec(b);
    auto diffs = diff_signatures(sa, sb, bootstrap);
    diff_heatmap(diffs, title).save_png(out);
    for (auto& d : diffs) {
      std::printf("layer %d (lags %d..%d): mean |recall B - A| = %.4f over symbols and lags; RMS accuracy difference over lags = %.4f\n",
                  d.layer, d.lags.front(), d.lags.back(), d.mean_abs, d.marginal_rms);
      if (!d.paired) {
        if (bootstrap > 0) std::printf("layer %d: no paired bootstrap (the two were not measured on the same test positions)\n", d.layer);
        continue;
      }
      int sig = 0, cells = 0;
      for (size_t c = 0; c < d.significant.size(); ++c)
        if (!std::isnan(d.recall_diff[c])) { cells++; sig += d.significant[c]; }
      std::printf("layer %d: accuracy B - A by lag, with 95%% paired-bootstrap interval:", d.layer);
      for (size_t i = 0; i < d.lags.size(); ++i)
        std::printf(" %d: %+.3f [%+.3f, %+.3f]", d.lags[i], d.accuracy_diff[i], d.accuracy_lo[i], d.accuracy_hi[i]);
      std::printf("\nlayer %d: %d of %d symbol x lag cells differ significantly at 95%%\n", d.layer, sig, cells);
    }
  });
}

void add_marginal(CLI::App& app) {
  auto* cmd = app.add_subcommand("marginal", "accuracy by lag of several signatures side by side (a column per model and layer)");
  static std::vector<std::string> files;
  static std::string out, title = "memory: decoding accuracy by lag";
  cmd->add_option("signatures", files, "signature.json files (FILE:control for a file's untrained control)")->required();
  cmd->add_option("--out", out, "PNG")->required();
  cmd->add_option("--title", title)->capture_default_str();
  cmd->callback([] {
    std::vector<EntrySignature> layers;
    std::vector<std::string> names;
    for (auto& f : files) {
      Signature sig = load_signature_spec(f);
      std::string model = model_label(sig);
      if (is_control_spec(f)) model += " untrained";
      for (auto& l : sig.trained.layers) {
        layers.push_back(l);
        names.push_back(sig.trained.layers.size() > 1 ? model + " l" + std::to_string(l.layer) : model);
      }
    }
    marginal_heatmap(layers, names, title).save_png(out);
    std::printf("wrote %s (%zu columns)\n", out.c_str(), names.size());
  });
}

void add_figure(CLI::App& app) {
  auto* cmd = app.add_subcommand("figure", "reproduce a figure of the paper (fig1..fig5, or all)");
  static std::string which;
  static FigureOptions o;
  cmd->add_option("name", which, "fig1 | fig2 | fig3 | fig4 | fig5 | fig7 | all")->required()
      ->check(CLI::IsMember({"fig1", "fig2", "fig3", "fig4", "fig5", "fig7", "all"}));
  cmd->add_option("--preset", o.preset, "fig2-fig5: quick (tiny models, seconds) | full")->capture_default_str()
      ->check(CLI::IsMember({"quick", "full"}));
  cmd->add_option("--model", o.model, "reuse this model (trained when missing)");
  cmd->add_option("--data", o.data, "fig7: a speech set DIR (train/, valid/, test/); synthesized when not given");
  cmd->add_option("--out", o.out_dir, "where the PNG goes")->capture_default_str();
  cmd->add_option("--work", o.work_dir, "models, signatures and CSVs")->capture_default_str();
  cmd->add_option("--train-minutes", o.train_minutes)->capture_default_str();
  cmd->add_option("--max-positions", o.max_train_positions)->capture_default_str();
  cmd->add_option("--seed", o.seed)->capture_default_str();
  cmd->add_flag("--quiet", o.quiet);
  add_common(cmd);
  cmd->callback([] {
    if (which == "fig5" || which == "all") figure_fig5(o);
    if (which == "fig3" || which == "all") figure_fig3(o);
    if (which == "fig4" || which == "all") figure_fig4(o);
    if (which == "fig2" || which == "all") figure_fig2(o);
    if (which == "fig1" || (which == "all" && o.preset == "full")) figure_fig1(o);
    if (which == "fig7") figure_fig7(o);
  });
}

}  // namespace memsig::cli
