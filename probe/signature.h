// signature.h — a model's memory signature: for each entry of a state source (a layer), the
// lag-d decoders' test accuracy (with 95% interval and chance), recall per symbol, counts and
// confusion matrices; the LM's own forward prediction accuracy per symbol; optionally the same for
// an untrained copy (control). A typed value, saved as signature.json:
//
//   {"symbols": [...34...],
//    "layers": [{"layer": 1, "name": "layer 1", "state": "c", "lag": [1..L], "accuracy": [...],
//                "ci95": [[lo, hi], ...], "chance": [...], "n": [...], "recall": [[34 per lag], ...],
//                "count": [[34 per lag], ...], "confusion": [[34x34 per lag], ...],
//                "keep_prob": [...], "valid_accuracy": [...]}],
//    "forward": {"recall": [...34...], "count": [...], "accuracy": 0.57},
//    "control": {"layers": [...], "forward": {...}},
//    "perfect_memory": {"max_k": 5, "accuracy": [[per lag] for k = 0..5], "count": [per lag]},
//       (k = 0 is the chance level; each layer then also has "memory_equivalent_k": [per lag])
//    "settings": {...every option used...}}
//
// Files written before the lag got its one name carry "delta" instead of "lag"; they still load.
#pragma once
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "corpora/corpus.h"
#include "probe/decoders.h"
#include "probe/perfect_memory.h"
#include "probe/state_source.h"

namespace memsig {

struct EntrySignature {
  int layer = 0;             // 1-based entry number in the source
  std::string name;          // "layer 1"
  std::string state;         // state kind read: "c", "h", ...
  std::vector<LagResult> lags;
  // Per lag: the smallest k for which perfect memory of the last k inputs decodes at least as well
  // as this layer (0: no k up to the reference's K does); empty without the reference.
  std::vector<int> memory_equivalent_k;
  // The test rows' targets, [rows x lags] (-1 = none), with each lag's test_predictions: what a
  // paired comparison of two signatures over the same test positions needs. Empty in files
  // written before they were kept.
  std::vector<int8_t> test_targets;
  // How many consecutive test rows come from one segment, segment after segment: rows of a
  // sentence are not independent, so the bootstrap resamples whole segments.
  std::vector<int32_t> test_clusters;
};

struct ProbedModel {
  std::vector<EntrySignature> layers;
  std::optional<ForwardAccuracy> forward;
};

struct Signature {
  ProbedModel trained;
  std::optional<ProbedModel> control;  // the untrained copy, with --control
  // What perfect memory of the last k = 1..K inputs (and nothing else) decodes at each lag, on the
  // same test split: how much of a signature memory alone explains (probe/perfect_memory.h).
  std::optional<PerfectMemory> perfect;
  nlohmann::json settings;
};

// The states last extracted for one source and corpus, kept so that probing them again with other
// decoder settings (Figure 2's capacity sweep) skips the extraction. Not a setting: reuse only.
struct StateCache {
  std::string key;  // the source's identity, the corpus and the state options
  StateSet train, valid, test;
};

struct SignatureOptions {
  StateOptions states;                  // entries, max_lag, seed
  int64_t max_train_positions = 200000;
  int64_t max_eval_positions = 100000;  // valid and test each
  ProbeOptions probe;
  bool control = false;                 // also probe an untrained copy of the model
  int perfect_memory_k = 5;             // the reference's largest k (0: none)
  bool quiet = false;
  // When set, each finished layer is saved here at once, and layers already in it (from a stopped
  // run with the same settings and the same model) are reused rather than probed again.
  std::string checkpoint;
  StateCache* state_cache = nullptr;   // when set: states reused from it, or extracted into it
};

Signature compute_signature(const StateSource& source, const Corpus& corpus, const SignatureOptions& opt);
// The settings a signature records (and a stopped run must share to reuse its layers).
nlohmann::json signature_settings(const StateSource& source, const Corpus& corpus, const SignatureOptions& opt);
// Fills each layer's memory_equivalent_k from sig.perfect (when there is one).
void attach_memory_equivalents(Signature& sig);

nlohmann::json to_json(const Signature& sig);
nlohmann::json to_json(const EntrySignature& layer);
// Checks every field (types, lengths, 34 symbols, equal lag lists); FileError(path, ...) otherwise.
Signature signature_from_json(const nlohmann::json& j, const std::string& path);
EntrySignature entry_from_json(const nlohmann::json& j, const std::string& path, const std::string& where);
Signature load_signature(const std::string& path);
// "FILE" reads a signature.json; "FILE:control" takes its untrained control as the trained part.
Signature load_signature_spec(const std::string& spec);
bool is_control_spec(const std::string& spec);
std::string signature_file(const std::string& spec);  // the file a spec reads ("FILE:control" -> FILE)
std::string model_label(const Signature& sig);  // "gru 1x320", from the settings

// Cells resting on fewer test targets than this are not reported (a recall over two digits says nothing).
constexpr int64_t kMinRecallCount = 20;

// B minus A for the layers and lags both have (matched by number).
//
// With `bootstrap` > 0 and both signatures measured on the same test positions (same corpus,
// seed and position count: their test targets are identical), a paired cluster bootstrap gives a
// 95% percentile interval for every accuracy difference: each of `bootstrap` resamples draws the
// test *segments* with replacement (rows of one sentence are not independent) and recomputes both
// signatures on their rows. Per symbol x lag cell, a two-sided bootstrap p-value; a cell is
// significant when it survives Benjamini-Hochberg at a false discovery rate of 5% over all cells.
struct LayerDiff {
  int layer = 0;
  std::vector<int> lags;
  std::vector<int> symbols;          // symbols present in both
  std::vector<double> recall_diff;   // [lags x symbols], NaN where either count < kMinRecallCount
  double mean_abs = 0;               // mean |recall B - A| over the cells with numbers
  double marginal_rms = 0;           // RMS over lags of accuracy B - A
  // From the paired bootstrap (empty without one):
  std::vector<uint8_t> significant;  // [lags x symbols]: the 95% interval excludes 0
  std::vector<double> accuracy_diff, accuracy_lo, accuracy_hi;  // per lag
  bool paired = false;
};
std::vector<LayerDiff> diff_signatures(const Signature& a, const Signature& b, int bootstrap = 0, uint64_t seed = 1);

std::vector<int> symbols_present(const EntrySignature& layer);  // symbols with a nonzero count

}  // namespace memsig
