// signature_json.h — a signature as signature.json, written and read back with every field checked:
//
//   {"symbols": [...34...],
//    "entries": [{"entry": 1, "name": "layer 1", "state": "c", "lag": [1..L], "accuracy": [...],
//                 "ci95": [[lo, hi], ...], "chance": [...], "n": [...], "recall": [[34 per lag], ...],
//                 "count": [[34 per lag], ...], "confusion": [[34x34 per lag], ...],
//                 "keep_prob": [...], "valid_accuracy": [...]}],
//    "forward": {"recall": [...34...], "count": [...], "accuracy": 0.57},
//    "test_rows": n, "test_lags": L, "test_targets": "base64 of [n x L] symbols + 1 (0: none)",
//    "test_clusters": [rows per test segment, ...],
//       (the test rows every entry was measured on, kept once; each entry then also has
//        "test_predictions": [base64 of n symbols + 1, per lag], for paired comparisons)
//    "control": {"entries": [...], "forward": {...}},  (with its own test rows only where they differ)
//    "perfect_memory": {"max_k": 5, "accuracy": [[per lag] for k = 0..5], "count": [per lag]},
//       (k = 0 is the chance level; each entry then also has "memory_equivalent_k": [per lag])
//    "settings": {...every option used...}}
//
// Files written by earlier versions name things otherwise ("layers"/"layer" for the entries,
// "delta" for the lag); signature_legacy.h brings them to this form before they are read.
#pragma once
#include <nlohmann/json.hpp>
#include <string>

#include "probe/signature.h"

namespace memsig {

nlohmann::json to_json(const Signature& sig);
nlohmann::json to_json(const EntrySignature& entry);
nlohmann::json to_json(const ProbedModel& probed);  // {"entries": [...], "forward": {...}}
// Checks every field (types, lengths, 34 symbols, equal lag lists); FileError(path, ...) otherwise.
// `where` starts the message ("control ").
Signature signature_from_json(const nlohmann::json& j, const std::string& path);
Signature signature_from_json(nlohmann::json&& j, const std::string& path);  // without a copy
// These two read today's form only: upgrade_probed_json (signature_legacy.h) first.
// test_rows: the probed model's test row count, for the entry's test_predictions (-1: none kept).
EntrySignature entry_from_json(const nlohmann::json& j, const std::string& path, const std::string& where,
                               int64_t test_rows = -1);
// allow_empty: a stopped run's partial file may hold no entry yet. `shared`: the test rows when
// j has none of its own (a control's are the trained model's).
ProbedModel probed_from_json(const nlohmann::json& j, const std::string& path, const std::string& where,
                             bool allow_empty = false, const TestRows* shared = nullptr);
Signature load_signature(const std::string& path);
// "FILE" reads a signature.json; "FILE:control" takes its untrained control as the trained part.
Signature load_signature_spec(const std::string& spec);
bool is_control_spec(const std::string& spec);
std::string signature_file(const std::string& spec);  // the file a spec reads ("FILE:control" -> FILE)
std::string model_label(const Signature& sig);  // "gru 1x320", from the settings

}  // namespace memsig
