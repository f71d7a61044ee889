#include "figures/recipes.h"

#include <cstdio>
#include <filesystem>
#include <stdexcept>

#include "engine/files.h"
#include "engine/stop_points.h"
#include "figures/plan.h"
#include "models/model_file.h"
#include "models/train_charlm.h"
#include "probe/sources.h"

namespace memsig {

Preset preset_named(const std::string& name) {
  Preset p;
  p.name = name;
  if (name == "full") {
    p.sizes = {80, 160, 320, 640};
    p.fractions = {0.5, 1, 2, 5, 20, 100};
    return p;
  }
  if (name == "quick") {  // everything tiny: each recipe runs end to end in seconds
    p.sizes = {8, 16};
    p.deep_layers = 2;
    p.deep_hidden = 8;
    p.embed = 8;
    p.steps = 50;           // budgets in steps: the same models on any machine
    p.steps_retrain = 20;
    p.fractions = {5, 100};
    p.train_positions = 3000;
    p.eval_positions = 1000;
    p.max_lag = 3;
    p.decoder_epochs = 2;
    p.ngram_order = 3;
    return p;
  }
  throw std::invalid_argument("unknown preset '" + name + "' (quick or full)");
}

Lab::Lab(const FigureOptions& o, const Preset& p) : opt(o), preset(p) { make_dirs(opt.work_dir); }

void Lab::declare_assembly(const std::string& figure) {
  if (!opt.plan) return;
  PlanJob job{figure, "assemble:" + figure, path("plan/" + figure + ".done"), "", "", {}};
  for (auto& j : opt.plan->jobs)
    if (j.figure == figure && j.id.rfind("assemble:", 0) != 0) job.deps.push_back(j.id);
  opt.plan->add(job);
}

std::string Lab::path(const std::string& name) const { return opt.work_dir + "/" + name; }

std::string config_tag(const CharLMConfig& cfg) {
  return std::string(cell_name(cfg.cell)) + std::to_string(cfg.layers) + "x" + std::to_string(cfg.hidden) +
         (cfg.factorized == Factorized::Bigram ? "_bigram" : "");
}

std::string Budget::str() const {
  char buf[64];
  if (steps > 0) std::snprintf(buf, sizeof buf, "%lld steps", (long long)steps);
  else std::snprintf(buf, sizeof buf, "%g min of CPU time", minutes);
  return buf;
}

std::string key_hash(const nlohmann::json& key) {
  uint64_t h = 1469598103934665603ull;
  for (unsigned char c : key.dump()) h = (h ^ c) * 1099511628211ull;
  char buf[20];
  std::snprintf(buf, sizeof buf, "%012llx", (unsigned long long)(h & 0xffffffffffffull));
  return buf;
}

std::string Lab::model(const Corpus& corpus, const CharLMConfig& cfg, const Budget& budget, const std::string& tag,
                       const std::string& init_from, const std::string& out_path) {
  TrainOptions t;
  t.model = cfg;
  t.batch = 64; t.lr = 2e-3f; t.clip = 5; t.epochs = 1000; t.seed = opt.seed;
  t.max_minutes = budget.minutes;
  t.max_steps = budget.steps;
  t.cpu_clock = true;  // CPU time per thread: the same budget buys the same training on a busy or paused machine
  t.eval_every = 200;
  t.resume = true;
  t.quiet = opt.quiet;
  t.init_from = init_from;
  // Everything the model is derived from, by content.
  nlohmann::json key = {{"kind", "charlm"}, {"config", config_tag(cfg)}, {"embed", cfg.embed}, {"dropout", cfg.dropout},
                        {"corpus", corpus.name}, {"corpus_digest", segments_digest(corpus.train) + segments_digest(corpus.valid)},
                        {"minutes", budget.minutes}, {"steps", budget.steps}, {"clock", "cpu"}, {"seed", opt.seed},
                        {"batch", t.batch}, {"lr", t.lr}, {"clip", t.clip}, {"eval_every", t.eval_every},
                        // The starting model by its file name (a cache entry's name holds its own key); its
                        // weights are checked when the entry is reused (a plan names entries before they exist).
                        {"init_from", init_from.empty() ? "" : std::filesystem::path(init_from).filename().string()}};
  std::string out = out_path;
  if (out.empty()) {
    make_dirs(path("models"));
    out = path("models/" + tag + "_" + config_tag(cfg) + "_e" + std::to_string(cfg.embed) + "_seed" + std::to_string(opt.seed) +
               "_" + key_hash(key) + ".safetensors");
  }
  // OUT.training holds the key while a training is under way (or was stopped); OUT.done once it finished.
  const std::string done = out + ".done", started = out + ".training";
  const std::string id = "model:" + std::filesystem::path(out).stem().string();
  if (opt.plan) {
    PlanJob job{opt.figure, id, done, out + ".lock", started, {}};
    if (!init_from.empty() && opt.plan->job_of_file.count(init_from)) job.deps.push_back(opt.plan->job_of_file.at(init_from));
    opt.plan->add(job);
    opt.plan->job_of_file[out] = id;
    return out;
  }
  if (!opt.entry.empty() && opt.entry != id) return out;  // another job's entry
  FileLock lock(out + ".lock", id);  // a second process computing the same entry waits, then finds it done
  const std::string init_weights = init_from.empty() ? "" : weights_digest(*load_model(init_from));
  auto key_in = [&](const std::string& file) {
    nlohmann::json d;
    try { d = nlohmann::json::parse(read_file(file)); } catch (const std::exception&) { return false; }
    return d.is_object() && d.value("key", nlohmann::json()) == key && d.value("init_weights", std::string()) == init_weights;
  };
  if (file_exists(done) && file_exists(out)) {
    if (key_in(done)) {
      if (opt.entry == id) throw EntryDone{id};
      return out;
    }
    std::fprintf(stderr, "== %s was trained from other data or settings: training it again\n", out.c_str());
  } else if (file_exists(started)) {
    if (!key_in(started)) {
      std::fprintf(stderr, "== %s was begun with other data or settings: starting it again\n", out.c_str());
      std::remove((out + ".ckpt").c_str());
    }
  }
  if (!file_exists(started) || !key_in(started)) {
    std::remove(done.c_str());
    std::remove((out + ".ckpt").c_str());
    write_text_atomically(started, nlohmann::json{{"key", key}, {"init_weights", init_weights}}.dump() + "\n");
  }
  std::fprintf(stderr, "== training %s on %s: %s, budget %s (resumable; cached as %s)\n", config_tag(cfg).c_str(),
               corpus.name.c_str(), init_from.empty() ? "from random weights" : ("from " + init_from).c_str(),
               budget.str().c_str(), out.c_str());
  t.out = out;
  t.log_csv = out + ".curve.csv";
  TrainResult r = train_charlm(corpus, t);
  write_text_atomically(done, nlohmann::json{{"key", key}, {"init_weights", init_weights}, {"best_valid_bpc", r.best_valid_bpc},
                                             {"seconds", r.seconds}, {"chars", r.chars}}.dump() + "\n");
  std::remove(started.c_str());
  stop_point("recipe.model");
  if (opt.entry == id) throw EntryDone{id};
  return out;
}

SignatureOptions Lab::signature_options() const {
  SignatureOptions so;
  so.states.max_lag = preset.max_lag;
  so.states.seed = opt.seed;
  so.probe.seed = opt.seed;
  so.probe.max_epochs = preset.decoder_epochs;
  so.max_train_positions = preset.train_positions;
  so.max_eval_positions = preset.eval_positions;
  so.quiet = opt.quiet;
  so.probe.quiet = true;
  return so;
}

Signature Lab::signature(const std::string& model_path, const Corpus& corpus, SignatureOptions so, const std::string& tag,
                         bool need_rows) {
  make_dirs(path("signatures"));
  const std::string out = path("signatures/" + tag + ".json");
  const std::string id = "signature:" + tag;
  if (opt.plan) {
    PlanJob job{opt.figure, id, out, out + ".lock", out + ".partial", {}};
    if (opt.plan->job_of_file.count(model_path)) job.deps.push_back(opt.plan->job_of_file.at(model_path));
    opt.plan->add(job);
    return Signature{};
  }
  if (!opt.entry.empty() && opt.entry != id) return Signature{};  // another job's entry
  FileLock lock(out + ".lock", id);
  auto source = state_source(load_any_model(model_path));
  so.checkpoint = out + ".partial";
  so.state_cache = &states_;
  if (file_exists(out)) {  // reused only when computed for this model with exactly these settings
    Signature cached = load_signature(out);
    bool covers = true;
    std::vector<int> wanted = so.states.entries;
    if (wanted.empty()) for (size_t e = 0; e < source->entries().size(); ++e) wanted.push_back((int)e);
    for (int e : wanted) {
      bool found = false;
      for (auto& l : cached.trained.entries) found = found || l.entry == e + 1;
      covers = covers && found;
    }
    bool rows = !need_rows || !cached.trained.test.empty();
    if (cached.settings == signature_settings(*source, corpus, so) && covers && rows &&
        (so.perfect_memory_k == 0 || cached.perfect)) {
      if (opt.entry == id) throw EntryDone{id};
      return cached;
    }
  }
  std::fprintf(stderr, "== signature of %s on %s (%s)\n", model_path.c_str(), corpus.name.c_str(), tag.c_str());
  Signature sig = compute_signature(*source, corpus, so);
  write_text_atomically(out, to_json(sig).dump() + "\n");
  std::remove(so.checkpoint.c_str());
  stop_point("recipe.signature");
  if (opt.entry == id) throw EntryDone{id};
  return sig;
}

}  // namespace memsig
