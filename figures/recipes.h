// recipes.h — what the figure recipes share: presets of sizes and time budgets, and trainings and
// signatures cached under the work folder by their settings, so a recipe run again (or stopped
// and started again) reuses what it finished and resumes what it had begun.
#pragma once
#include <string>
#include <vector>

#include "figures/figures.h"
#include "models/charlm.h"
#include "probe/signature.h"
#include "probe/signature_json.h"

namespace memsig {

// A training budget: CPU minutes (per thread; the full preset), or a number of steps (the quick
// preset: the same model on any machine, so an interrupted quick run ends exactly where an
// uninterrupted one does).
struct Budget {
  double minutes = 0;
  int64_t steps = 0;
  std::string str() const;  // "3 min of CPU time" | "100 steps"
};

struct Preset {
  std::string name;                 // "quick" (tiny models, seconds: the test suite's smoke test) | "full"
  std::vector<int> sizes;           // Figure 2's state sizes
  int deep_layers = 4, deep_hidden = 320;  // Figure 3
  int embed = 32;
  double minutes_shallow = 3;       // CPU time budget of a 1-layer model of up to 160 units
  double minutes_for(int hidden) const {  // larger 1-layer models get more: 4/3x at 320, 2x at 640
    return hidden >= 640 ? 2 * minutes_shallow : hidden >= 320 ? minutes_shallow * 4 / 3 : minutes_shallow;
  }
  double minutes_deep = 4;          // of a deep one
  double minutes_retrain = 1;       // of a retraining (Figure 4)
  int64_t steps = 0, steps_retrain = 0;  // when set, budgets in steps instead of minutes (quick)
  Budget budget_for(int hidden) const { return steps ? Budget{0, steps} : Budget{minutes_for(hidden), 0}; }
  Budget budget_deep() const { return steps ? Budget{0, steps} : Budget{minutes_deep, 0}; }
  Budget budget_retrain() const { return steps_retrain ? Budget{0, steps_retrain} : Budget{minutes_retrain, 0}; }
  std::vector<double> fractions;    // Figure 4's retraining fractions of PTB, in percent
  int64_t train_positions = 60000, eval_positions = 20000;
  int max_lag = 10;
  int decoder_epochs = 20;
  int ngram_order = 5;
};
Preset preset_named(const std::string& name);  // std::invalid_argument for an unknown one

// A recipe's workshop: the options, the preset, and the cache under opt.work_dir.
class Lab {
 public:
  Lab(const FigureOptions& opt, const Preset& preset);
  const FigureOptions opt;
  const Preset preset;

  // A char LM trained on `corpus` (named `tag` in the cache) within `budget`, from random weights
  // or from `init_from`; trained (or resumed) only when the cache lacks it. The cache entry is
  // keyed by the content of everything it is derived from (the corpus's text, the configuration,
  // budget and seed, the starting model's weights): a retrained source model makes every model
  // derived from it new entries. A model counts as cached only once its training has finished
  // (MODEL.done holds its key); a stopped one is resumed. `out_path` overrides the cache's file name.
  std::string model(const Corpus& corpus, const CharLMConfig& cfg, const Budget& budget, const std::string& tag,
                    const std::string& init_from = "", const std::string& out_path = "");
  // The signature of a model file (char LM or .arpa) on `corpus`, cached by model and settings;
  // need_rows: the cached one must keep its test rows (for a paired comparison).
  Signature signature(const std::string& model_path, const Corpus& corpus, SignatureOptions so, const std::string& tag,
                      bool need_rows = false);
  SignatureOptions signature_options() const;
  // False while declaring a plan or computing one entry of it: the recipe then stops after its
  // declaring half (Lab::model and Lab::signature calls) and draws nothing.
  bool assembling() const { return !opt.plan && opt.entry.empty(); }
  // The end of a recipe's declaring half: in a plan, the assembling job (after every entry).
  void declare_assembly(const std::string& figure);  // the preset's positions, lags and decoder epochs
  std::string path(const std::string& name) const;  // opt.work_dir + "/" + name

 private:
  StateCache states_;  // the last model's extracted states: a decoder sweep probes them again
};

std::string config_tag(const CharLMConfig& cfg);  // "gru1x320"
std::string key_hash(const nlohmann::json& key);  // 12 hex digits of a digest of key.dump()

}  // namespace memsig
