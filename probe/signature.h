// signature.h — a model's memory signature: for each layer, the lag-d decoders' test accuracy
// (with 95% interval and chance), recall per symbol, counts and confusion matrices; the LM's own
// forward prediction accuracy per symbol; optionally the same for an untrained copy (control).
// Saved as signature.json, CSVs and PNG heatmaps.
#pragma once
#include <nlohmann/json.hpp>
#include <string>

#include "corpora/corpus.h"
#include "probe/canvas.h"
#include "probe/decoders.h"

namespace memsig {

struct SignatureOptions {
  StateOptions states;                 // layers, state kind, max_delta, seed
  int64_t max_train_positions = 200000;
  int64_t max_eval_positions = 100000; // valid and test each
  ProbeOptions probe;
  bool control = false;                // also probe an untrained copy of the model
  bool quiet = false;
  // When set, each finished layer is saved here at once, and layers already in it (from a run
  // with the same settings that was stopped) are reused rather than probed again.
  std::string checkpoint;
};

// Probes every requested layer of the model and returns signature.json's content.
nlohmann::json compute_signature(const CharLM& model, const Corpus& corpus, const SignatureOptions& opt);

// Writes DIR/signature.json, DIR/signature_l{k}.png, DIR/signature_l{k}.csv, DIR/marginal.png,
// DIR/marginal.csv (and control_* files when present).
void write_signature(const nlohmann::json& sig, const std::string& dir, const std::string& title);
nlohmann::json load_signature(const std::string& path);  // FileError on bad files

// The per-symbol recall heatmap of one layer entry; `symbols` selects and orders the columns
// (empty = every symbol that occurs). Cells resting on fewer than kMinRecallCount test targets are
// drawn grey (no data): a recall over two digits says nothing.
constexpr int64_t kMinRecallCount = 20;
Canvas signature_heatmap(const nlohmann::json& sig, const nlohmann::json& layer, const std::string& title,
                         const std::vector<int>& symbols = {}, int min_left = 0);
// Marginal accuracy map: columns = the given entries (layers or models), rows = lag d.
Canvas marginal_heatmap(const std::vector<nlohmann::json>& layers, const std::vector<std::string>& names,
                        const std::string& title);
// B minus A, per layer: a diverging heatmap and the mean absolute difference of recall.
struct SignatureDiff {
  std::vector<double> mean_abs;      // per layer
  std::vector<double> marginal_rms;  // per layer: RMS of the accuracy difference over d
};
SignatureDiff diff_signatures(const nlohmann::json& a, const nlohmann::json& b, const std::string& png,
                              const std::string& title);

std::vector<int> symbols_present(const nlohmann::json& layer);  // symbols with a nonzero count
std::string csv_symbol_name(int id);

}  // namespace memsig
