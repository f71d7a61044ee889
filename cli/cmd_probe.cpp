// cmd_probe.cpp — the memory-signature commands: signature, diff, figure.
#include <cstdio>
#include <filesystem>
#include <sstream>

#include "cli/commands.h"
#include "cli/options.h"
#include "cli/device_option.h"
#include "engine/files.h"
#include "corpora/corpus.h"
#include "figures/figures.h"
#include "figures/plan.h"
#include "figures/signature_plots.h"
#include "models/model_file.h"
#include "probe/sources.h"
#include "probe/signature.h"
#include "probe/signature_diff.h"
#include "probe/signature_json.h"

namespace memsig::cli {

namespace {
// "all" or 1-based entry numbers "1,3" (a char LM's entries are its layers) -> 0-based entries.
std::vector<int> parse_entries(const std::string& spec, const std::vector<StateEntry>& entries,
                               const std::string& option = "--entries") {
  std::vector<int> out;
  if (spec == "all") return out;
  const int n = (int)entries.size();
  std::stringstream ss(spec);
  std::string item;
  while (std::getline(ss, item, ',')) {
    int l = 0;
    try { l = std::stoi(item); } catch (...) { throw CLI::ValidationError(option + ": '" + item + "' is not an entry number"); }
    if (l < 1 || l > n)
      throw CLI::ValidationError(option + ": entry " + item + " does not exist (the model has " + std::to_string(n) + (n == 1 ? " entry: " : " entries: ") +
                                 entries.front().name + (n > 1 ? " .. " + entries.back().name : "") + ")");
    for (int seen : out)
      if (seen == l - 1) throw CLI::ValidationError(option + ": entry " + item + " (" + entries[l - 1].name + ") is named twice");
    out.push_back(l - 1);
  }
  return out;
}
}  // namespace

void check_output_folder(const std::string& dir, const std::vector<NamedPath>& inputs) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (fs::exists(dir, ec) && !fs::is_directory(dir, ec)) throw FileError(dir, "--out must be a folder, and this is a file");
  for (auto& in : inputs) {
    if (in.path.empty()) continue;
    fs::path p(in.path);
    std::string name = p.filename().string();
    bool ours = name.rfind("signature", 0) == 0 || name.rfind("marginal", 0) == 0 || name.rfind("control_", 0) == 0;
    fs::path parent = p.has_parent_path() ? p.parent_path() : fs::path(".");
    if (ours && fs::exists(dir, ec) && fs::equivalent(parent, dir, ec))
      throw FileError(in.path, in.option + " lies in the output folder --out " + dir + " under a name memsig writes there: write elsewhere");
  }
}

void add_signature(CLI::App& app) {
  auto* cmd = app.add_subcommand("signature", "memory signature: probe what each entry's state (a layer's) remembers of past inputs");
  static std::string model_path, corpus, train, valid, test, entries = "all", state, out, speech, png_entries;
  static SignatureOptions o;
  static SignatureFileOptions files;
  static int64_t max_state_mib = o.max_state_bytes >> 20;
  cmd->add_option("--model", model_path, "a char LM or a LAS model (.safetensors), or an n-gram model (.arpa)")->required();
  auto* c = cmd->add_option("--corpus", corpus, "shakespeare | ptb | wsj:PATH | FILE");
  auto* tr = cmd->add_option("--train", train, "training split file (with --valid and --test)");
  cmd->add_option("--valid", valid);
  cmd->add_option("--test", test);
  c->excludes(tr);
  auto* sp = cmd->add_option("--data", speech, "a speech set DIR (train/, valid/, test/ data directories) for a LAS model");
  sp->excludes(c);
  sp->excludes(tr);
  cmd->add_option("--entries,--layers", entries, "all, or 1-based entry numbers (a char LM's layers): 1,3")->capture_default_str();
  cmd->add_option("--max-lag,--max-delta", o.states.max_lag, "L: decoders for lags 1..L")->capture_default_str()->check(integer_in(1, 100));
  cmd->add_option("--state", state, "c | h | ch (LSTM; default c), h (GRU)");
  cmd->add_option("--max-positions", o.max_train_positions, "training positions kept (random subsample)")->capture_default_str()->check(integer_in(1, kNoLimit));
  cmd->add_option("--max-eval-positions", o.max_eval_positions, "valid/test positions kept")->capture_default_str()->check(integer_in(1, kNoLimit));
  cmd->add_option("--decoder-hidden", o.probe.hidden, "units per decoder hidden layer")->capture_default_str()->check(integer_in(1, 65536));
  cmd->add_option("--decoder-depth", o.probe.depth, "hidden layers per decoder (0 = linear)")->capture_default_str()->check(integer_in(0, 4));
  cmd->add_option("--keep-prob", o.probe.keep_prob, "dropout keep probability")->capture_default_str()->check(real_in(0.1, 1.0));
  cmd->add_flag("--sweep-dropout", o.probe.sweep_dropout, "try keep 0.5..1.0 by 0.1, pick per decoder on valid");
  cmd->add_option("--epochs", o.probe.max_epochs, "max decoder epochs")->capture_default_str()->check(integer_in(1, 100000));
  cmd->add_option("--patience", o.probe.patience, "early-stopping patience (epochs)")->capture_default_str()->check(integer_in(1, 100000));
  cmd->add_flag("--decoders-stop-together", o.probe.stop_together,
                "every decoder trains until none has improved for --patience epochs (default: each stops on its own)");
  cmd->add_option("--lr", o.probe.lr)->capture_default_str()->check(positive_real());
  cmd->add_flag("--control", o.control, "also probe an untrained copy of the model");
  cmd->add_option("--perfect-memory", o.perfect_memory_k, "reference: perfect memory of the last k = 1..K inputs (0 = none)")
      ->capture_default_str()->check(integer_in(0, 10));
  cmd->add_option("--seed", o.states.seed)->capture_default_str()->check(integer_in(0, kNoLimit));
  cmd->add_option("--max-state-mib", max_state_mib,
                  "states held at once (MiB): entries are probed in chunks that fit (0 = all at once; same result)")
      ->capture_default_str()->check(integer_in(0, 1LL << 30));
  cmd->add_option("--chunk-entries", o.chunk_entries, "at most this many entries per chunk (0 = as --max-state-mib allows)")
      ->capture_default_str()->check(integer_in(0, 1000000));
  cmd->add_option("--entry-files", files.per_entry_files_up_to,
                  "a PNG and CSV per entry up to this many entries; beyond, one signature_entries.csv and PNGs for --png-entries")
      ->capture_default_str()->check(integer_in(0, kNoLimit));
  cmd->add_option("--png-entries", png_entries, "with more entries than --entry-files: entries that still get a PNG (1,5)");
  cmd->add_option("--out", out, "output folder")->required();
  cmd->add_flag("--quiet", o.quiet);
  add_common(cmd);
  add_device(cmd);
  cmd->callback([] {
    if (corpus.empty() && speech.empty() && (train.empty() || valid.empty() || test.empty()))
      throw CLI::ValidationError("signature needs --corpus, or --train, --valid and --test (--data for a LAS model)");
    std::vector<NamedPath> in = corpus_inputs("--corpus", corpus);
    for (auto* f : {&train, &valid, &test})
      if (!f->empty()) in.push_back({f == &train ? "--train" : f == &valid ? "--valid" : "--test", *f});
    if (!speech.empty()) in.push_back({"--data", speech});
    in.push_back({"--model", model_path});
    check_output_folder(out, in);
    // Every kind the same way: its loader (models/any_model.h), its state source and, for a kind
    // probed on data folders (a LAS model on a speech set), its data reader (probe/sources.h).
    AnyModel model = load_any_model(model_path);
    const ModelKind* kind = find_model_kind(model.format);
    const ProbeDataReader* reader = probe_data_reader(model.format);
    if (reader && speech.empty())
      throw FileError(model_path, "is a " + kind->description + " (" + model.format + "): give its data with --data DIR");
    if (!reader && !speech.empty())
      throw FileError(model_path, "is a " + kind->description + " (" + model.format + "), probed on text: give --corpus or --train/--valid/--test, not --data");
    Corpus data = reader ? (*reader)(model, speech, o.quiet)
                         : corpus.empty() ? load_split_files(train, valid, test) : load_corpus(corpus);
    if (!reader) select_corpus(model, model_path, data);  // a domain-lambda model takes this corpus's lambda
    std::unique_ptr<StateSource> source_ptr = state_source(model, state);
    const StateSource& source = *source_ptr;
    o.states.entries = parse_entries(entries, source.entries());
    o.max_state_bytes = max_state_mib << 20;
    if (!png_entries.empty()) {
      files.png_entries.clear();
      for (int e : parse_entries(png_entries, source.entries(), "--png-entries")) files.png_entries.push_back(e + 1);
    }
    o.probe.seed = o.states.seed;
    o.probe.quiet = o.quiet;
    o.checkpoint = out + "/signature.partial.json";
    check_probe_options(o.probe);
    make_dirs(out);
    Signature sig = compute_signature(source, data, o);
    write_signature_files(sig, out, source.describe() + " on " + data.name, files);
    std::remove(o.checkpoint.c_str());
    for (auto& l : sig.trained.entries) {
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
    if ((int64_t)sig.trained.entries.size() > files.per_entry_files_up_to)
      std::printf("wrote %s/signature.json, signature_entries.csv, marginal.csv and %zu PNG(s) of named entries\n", out.c_str(),
                  files.png_entries.size());
    else
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
      ->capture_default_str()->check(integer_in(0, 100000));
  cmd->callback([] {
    check_outputs({{"A", signature_file(a)}, {"B", signature_file(b)}}, {{"--out", out}});
    Signature sa = load_signature_spec(a), sb = load_signature_spec(b);
    auto diffs = diff_signatures(sa, sb, bootstrap);
    diff_heatmap(diffs, title).save_png(out);
    for (auto& d : diffs) {
      std::printf("entry %d (lags %d..%d): mean |recall B - A| = %.4f over symbols and lags; RMS accuracy difference over lags = %.4f\n",
                  d.entry, d.lags.front(), d.lags.back(), d.mean_abs, d.marginal_rms);
      if (!d.paired) {
        if (bootstrap > 0) std::printf("entry %d: no paired bootstrap (the two were not measured on the same test positions)\n", d.entry);
        continue;
      }
      int sig = 0, cells = 0;
      for (size_t c = 0; c < d.significant.size(); ++c)
        if (!std::isnan(d.recall_diff[c])) { cells++; sig += d.significant[c]; }
      std::printf("entry %d: accuracy B - A by lag, with 95%% paired-bootstrap interval:", d.entry);
      for (size_t i = 0; i < d.lags.size(); ++i)
        std::printf(" %d: %+.3f [%+.3f, %+.3f]", d.lags[i], d.accuracy_diff[i], d.accuracy_lo[i], d.accuracy_hi[i]);
      std::printf("\nentry %d: %d of %d symbol x lag cells differ significantly at 95%%\n", d.entry, sig, cells);
    }
  });
}

void add_marginal(CLI::App& app) {
  auto* cmd = app.add_subcommand("marginal", "accuracy by lag of several signatures side by side (a column per model and entry)");
  static std::vector<std::string> files;
  static std::string out, title = "memory: decoding accuracy by lag";
  cmd->add_option("signatures", files, "signature.json files (FILE:control for a file's untrained control)")->required();
  cmd->add_option("--out", out, "PNG")->required();
  cmd->add_option("--title", title)->capture_default_str();
  cmd->callback([] {
    std::vector<NamedPath> in;
    for (auto& f : files) in.push_back({"a signature", signature_file(f)});
    check_outputs(in, {{"--out", out}});
    std::vector<EntrySignature> entries;
    std::vector<std::string> names;
    for (auto& f : files) {
      Signature sig = load_signature_spec(f);
      std::string model = model_label(sig);
      if (is_control_spec(f)) model += " untrained";
      for (auto& l : sig.trained.entries) {
        entries.push_back(l);
        names.push_back(sig.trained.entries.size() > 1 ? model + " l" + std::to_string(l.entry) : model);
      }
    }
    marginal_heatmap(entries, names, title).save_png(out);
    std::printf("wrote %s (%zu columns)\n", out.c_str(), names.size());
  });
}

void add_figure(CLI::App& app) {
  auto* cmd = app.add_subcommand("figure", "reproduce a figure of the paper (fig1..fig6, or all = fig1..fig5)");
  static std::string which;
  static FigureOptions o;
  cmd->add_option("name", which, "fig1 | fig2 | fig3 | fig4 | fig5 | fig6 | fig7 | all")->required()
      ->check(CLI::IsMember({"fig1", "fig2", "fig3", "fig4", "fig5", "fig6", "fig7", "all"}));
  cmd->add_option("--preset", o.preset, "fig2-fig5: quick (tiny models, seconds) | full")->capture_default_str()
      ->check(CLI::IsMember({"quick", "full"}));
  cmd->add_option("--model", o.model, "reuse this model (trained when missing)");
  cmd->add_option("--data", o.data, "fig7: a speech set DIR (train/, valid/, test/); synthesized when not given");
  cmd->add_option("--out", o.out_dir, "where the PNG goes")->capture_default_str();
  cmd->add_option("--work", o.work_dir, "models, signatures and CSVs")->capture_default_str();
  cmd->add_option("--train-minutes", o.train_minutes, "fig1: CPU minutes of training")->capture_default_str()->check(real_in(0, 1e6, true));
  cmd->add_option("--max-positions", o.max_train_positions)->capture_default_str()->check(integer_in(1, kNoLimit));
  cmd->add_option("--seed", o.seed)->capture_default_str()->check(integer_in(0, kNoLimit));
  cmd->add_flag("--quiet", o.quiet);
  cmd->add_option("--check-ablation", o.check_ablation,
                  "fig6: check the ablation view against decoders retrained per ablated model, for the six named bases and the N of "
                  "largest memory (0 = no check)")->capture_default_str()->check(integer_in(0, 1156));
  static std::string plan_format, plan_file, entry;
  static bool status = false;
  cmd->add_option("--plan", plan_format, "write the study as jobs for a scheduler instead of running it: make | parallel | slurm")
      ->check(CLI::IsMember({"make", "parallel", "slurm"}));
  cmd->add_option("--plan-file", plan_file, "where --plan writes (default WORK/plan/NAME.mk, .parallel.sh or .slurm.sh)");
  cmd->add_option("--entry", entry, "compute this one cache entry of the study and stop (what a plan's jobs run)");
  cmd->add_flag("--status", status, "list the study's jobs: done, running, stopped or missing");
  add_common(cmd);
  add_device(cmd);
  cmd->callback([] {
    // The recipes in the order `all` runs them (fig1 only with the full preset).
    auto run = [](FigureOptions f) {
      const std::vector<std::pair<std::string, void (*)(const FigureOptions&)>> recipes = {
          {"fig5", figure_fig5}, {"fig3", figure_fig3}, {"fig4", figure_fig4}, {"fig2", figure_fig2}, {"fig1", figure_fig1},
          {"fig6", figure_fig6}, {"fig7", figure_fig7}};  // fig6, fig7 are not in "all": each trains its own kind of model
      for (auto& [name, recipe] : recipes) {
        if (which != name && !(which == "all" && name != "fig6" && name != "fig7" && (name != "fig1" || f.preset == "full"))) continue;
        f.figure = name;
        recipe(f);
        if (!f.plan && f.entry.empty()) {  // an assembled figure: its plan job is done
          make_dirs(f.work_dir + "/plan");
          write_text_atomically(f.work_dir + "/plan/" + name + ".done", "done\n");
        }
      }
    };
    if (!plan_format.empty() || status) {
      Plan plan;
      FigureOptions f = o;
      f.plan = &plan;
      run(f);
      if (status) {
        print_plan_status(plan);
        return;
      }
      namespace fs = std::filesystem;
      // Jobs may run from another folder (a cluster node): every path absolute.
      std::string options = " --preset " + o.preset + " --work " + sh_quote(fs::absolute(o.work_dir).string()) + " --out " +
                            sh_quote(fs::absolute(o.out_dir).string()) + " --seed " + std::to_string(o.seed) +
                            " --max-positions " + std::to_string(o.max_train_positions);
      char minutes[32];
      std::snprintf(minutes, sizeof minutes, "%.17g", o.train_minutes);
      options += std::string(" --train-minutes ") + minutes;
      if (!o.model.empty()) options += " --model " + sh_quote(fs::absolute(o.model).string());
      if (o.quiet) options += " --quiet";
      const std::string ext = plan_format == "make" ? ".mk" : plan_format == "parallel" ? ".parallel.sh" : ".slurm.sh";
      std::string file = plan_file.empty() ? o.work_dir + "/plan/" + which + ext : plan_file;
      if (auto dir = fs::path(file).parent_path(); !dir.empty()) make_dirs(dir.string());
      std::error_code ec;
      std::string memsig = fs::read_symlink("/proc/self/exe", ec).string();
      std::string how = write_plan(plan, plan_format, memsig.empty() ? "memsig" : memsig, options, file);
      std::printf("wrote %s: %zu jobs in %zu stages; run it with: %s\n", file.c_str(), plan.jobs.size(), plan.stages().size(),
                  how.c_str());
      return;
    }
    if (!entry.empty()) {
      FigureOptions f = o;
      f.entry = entry;
      try {
        run(f);
      } catch (const EntryDone& d) {
        std::printf("%s: in the cache\n", d.id.c_str());
        return;
      }
      throw CLI::ValidationError("--entry: no entry '" + entry + "' in " + which + " (memsig figure " + which + " --status lists them)");
    }
    run(o);
  });
}

}  // namespace memsig::cli
