// signature.h — a model's memory signature: for each entry of a state source (a layer, an
// encoder layer, a decoder query, ...), the lag-d decoders' test accuracy (with 95% interval and
// chance), recall per symbol, counts and confusion matrices; the LM's own forward prediction
// accuracy per symbol; optionally the same for an untrained copy (control). This file computes it
// (and resumes a stopped computation); its neighbours read and write it (signature_json.h), compare
// two (signature_diff.h) and read what older versions wrote (signature_legacy.h).
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
  int entry = 0;             // 1-based entry number in the source
  std::string name;          // "layer 1"
  std::string state;         // state kind read: "c", "h", ...
  std::vector<LagResult> lags;
  // Per lag: the smallest k for which perfect memory of the last k inputs decodes at least as well
  // as this entry (0: no k up to the reference's K does); empty without the reference.
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
  std::vector<EntrySignature> entries;
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
  // When set, each finished entry is saved here at once, and entries already in it (from a stopped
  // run with the same settings and the same model) are reused rather than probed again.
  std::string checkpoint;
  StateCache* state_cache = nullptr;   // when set: states reused from it, or extracted into it
};

Signature compute_signature(const StateSource& source, const Corpus& corpus, const SignatureOptions& opt);
// The settings a signature records (and a stopped run must share to reuse its entries).
nlohmann::json signature_settings(const StateSource& source, const Corpus& corpus, const SignatureOptions& opt);
// Fills each entry's memory_equivalent_k from sig.perfect (when there is one).
void attach_memory_equivalents(Signature& sig);

// Cells resting on fewer test targets than this are not reported (a recall over two digits says nothing).
constexpr int64_t kMinRecallCount = 20;

std::vector<int> symbols_present(const EntrySignature& entry);  // symbols with a nonzero count

}  // namespace memsig
