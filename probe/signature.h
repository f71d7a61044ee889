// signature.h — a model's memory signature: for each entry of a state source (a layer, an
// encoder layer, a decoder query, ...), the lag-d decoders' test accuracy (with 95% interval and
// chance), recall per symbol, counts and confusion matrices; the LM's own forward prediction
// accuracy per symbol; optionally the same for an untrained copy (control). This file computes it
// (and resumes a stopped computation); its neighbours read and write it (signature_json.h), compare
// two (signature_diff.h) and read what older versions wrote (signature_legacy.h).
//
// Entries are probed in chunks: the states of as many entries as fit SignatureOptions'
// max_state_bytes are extracted, their decoders trained and evaluated, and the states freed before
// the next chunk. A chunk's entries do not depend on which others share it (the rows kept follow
// the seed, the decoders' seeds the source's entry), so any chunking gives the same signature, bit
// for bit; a stopped run resumes from the last chunk (or entry) saved.
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
};

// The test rows every entry of a probed model was measured on, kept once (not per entry): with
// each entry's test_predictions, what a paired comparison of two signatures over the same test
// positions needs. Empty in files written before they were kept.
struct TestRows {
  int64_t rows = 0;
  int lags = 0;                   // columns: lags 1..lags
  std::vector<int8_t> targets;    // [rows x lags]: the symbol d positions back (-1 = none)
  // How many consecutive rows come from one segment, segment after segment: rows of a sentence
  // are not independent, so the bootstrap resamples whole segments.
  std::vector<int32_t> clusters;
  bool empty() const { return targets.empty(); }
  int target(int64_t row, int lag) const { return targets[(size_t)row * lags + (lag - 1)]; }
  bool operator==(const TestRows& o) const {
    return rows == o.rows && lags == o.lags && targets == o.targets && clusters == o.clusters;
  }
  bool operator!=(const TestRows& o) const { return !(*this == o); }
};

struct ProbedModel {
  std::vector<EntrySignature> entries;
  std::optional<ForwardAccuracy> forward;
  TestRows test;
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
  // When set, finished entries are saved here (after each entry, or after each chunk when there
  // are many), and entries already in it (from a stopped run with the same settings and the same
  // model) are reused rather than probed again.
  std::string checkpoint;
  StateCache* state_cache = nullptr;   // when set (and one chunk holds every entry): states reused from it, or extracted into it
  // The states of the three splits held at once, in bytes (estimated from the positions kept and
  // each entry's width): entries are probed in chunks that stay within it, a chunk holding at least
  // one entry; 0 = every entry at once. Not a setting: any chunking gives the same signature.
  // The default holds every entry of today's figures and of a 4-layer 320-unit model at once.
  int64_t max_state_bytes = int64_t(4096) << 20;
  int chunk_entries = 0;                // at most this many entries per chunk (0: as the bytes allow)
  // The partial file is rewritten whole at each save: after every entry while a run probes at most
  // this many, after every chunk beyond (after each of 1156 entries, the writing would grow as
  // the square of the entries).
  int64_t save_each_entry_up_to = 32;
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
