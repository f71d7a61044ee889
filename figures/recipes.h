// recipes.h — what the figure recipes share: presets of sizes and time budgets, and trainings and
// signatures cached under the work folder by their settings, so a recipe run again (or stopped
// and started again) reuses what it finished and resumes what it had begun.
#pragma once
#include <string>
#include <vector>

#include "figures/figures.h"
#include "models/charlm.h"
#include "probe/signature.h"

namespace memsig {

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

  // A char LM trained on `corpus` (named `tag` in the cache) for `minutes` (the CPU budget), from
  // random weights or from `init_from`; trained (or resumed) only when the cache lacks it.
  std::string model(const Corpus& corpus, const CharLMConfig& cfg, double minutes, const std::string& tag,
                    const std::string& init_from = "");
  // The signature of a model file (char LM or .arpa) on `corpus`, cached by model and settings;
  // need_rows: the cached one must keep its test rows (for a paired comparison).
  Signature signature(const std::string& model_path, const Corpus& corpus, SignatureOptions so, const std::string& tag,
                      bool need_rows = false);
  SignatureOptions signature_options() const;  // the preset's positions, lags and decoder epochs
  std::string path(const std::string& name) const;  // opt.work_dir + "/" + name

 private:
  StateCache states_;  // the last model's extracted states: a decoder sweep probes them again
};

std::string config_tag(const CharLMConfig& cfg);  // "gru1x320"

}  // namespace memsig
