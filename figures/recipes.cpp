#include "figures/recipes.h"

#include <cstdio>
#include <stdexcept>

#include "engine/files.h"
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
    p.minutes_shallow = p.minutes_deep = p.minutes_retrain = 0.03;
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

std::string Lab::path(const std::string& name) const { return opt.work_dir + "/" + name; }

std::string config_tag(const CharLMConfig& cfg) {
  return std::string(cell_name(cfg.cell)) + std::to_string(cfg.layers) + "x" + std::to_string(cfg.hidden);
}

std::string Lab::model(const Corpus& corpus, const CharLMConfig& cfg, double minutes, const std::string& tag,
                       const std::string& init_from) {
  char budget[32];
  std::snprintf(budget, sizeof budget, "%gmin", minutes);
  const std::string name = tag + "_" + config_tag(cfg) + "_e" + std::to_string(cfg.embed) + "_" + budget + "_seed" +
                           std::to_string(opt.seed);
  make_dirs(path("models"));
  const std::string out = path("models/" + name + ".safetensors"), done = out + ".done";
  if (file_exists(done) && file_exists(out)) return out;
  std::fprintf(stderr, "== training %s on %s: %s, budget %g min of CPU time (resumable; cached as %s)\n",
               config_tag(cfg).c_str(), corpus.name.c_str(), init_from.empty() ? "from random weights" : ("from " + init_from).c_str(),
               minutes, out.c_str());
  TrainOptions t;
  t.model = cfg;
  t.batch = 64; t.lr = 2e-3f; t.clip = 5; t.epochs = 1000; t.seed = opt.seed;
  t.max_minutes = minutes;
  t.cpu_clock = true;  // CPU time per thread: the same budget buys the same training on a busy or paused machine
  t.eval_every = 200;
  t.out = out;
  t.resume = true;
  t.quiet = opt.quiet;
  t.init_from = init_from;
  t.log_csv = out + ".curve.csv";
  TrainResult r = train_charlm(corpus, t);
  write_text_atomically(done, nlohmann::json{{"best_valid_bpc", r.best_valid_bpc}, {"seconds", r.seconds}, {"chars", r.chars}}.dump() + "\n");
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
  auto source = state_source(load_any_model(model_path));
  so.checkpoint = out + ".partial";
  so.state_cache = &states_;
  if (file_exists(out)) {  // reused only when computed for this model with exactly these settings
    Signature cached = load_signature(out);
    bool covers = true;
    for (int e : so.states.entries) {
      bool found = false;
      for (auto& l : cached.trained.layers) found = found || l.layer == e + 1;
      covers = covers && found;
    }
    bool rows = !need_rows || (!cached.trained.layers.empty() && !cached.trained.layers[0].test_targets.empty());
    if (cached.settings == signature_settings(*source, corpus, so) && covers && rows &&
        (so.perfect_memory_k == 0 || cached.perfect))
      return cached;
  }
  std::fprintf(stderr, "== signature of %s on %s (%s)\n", model_path.c_str(), corpus.name.c_str(), tag.c_str());
  Signature sig = compute_signature(*source, corpus, so);
  write_text_atomically(out, to_json(sig).dump() + "\n");
  std::remove(so.checkpoint.c_str());
  return sig;
}

}  // namespace memsig
