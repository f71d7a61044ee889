// signature_legacy.h — what earlier versions of memsig wrote, read by today's reader.
//
// Every old form is rewritten, in the JSON, into today's before signature_json.cpp reads it, so
// that the reader knows one format and this file is the one list of what changed:
//   - "layers" / "layer": the entries of a probed model and an entry's number ("entries" / "entry");
//   - "delta": the lag list of an entry ("lag");
//   - test rows ("test_rows", "test_targets", "test_clusters") copied into every entry: kept once,
//     beside the entries (with "test_lags");
//   - a partial file's "trained" / "control" as bare arrays of entries ({"entries": [...]});
//   - settings without "model" but with "cell", "model_layers" and "hidden" (model_label).
// Nothing here throws: anything odd is left for the reader, whose checks name the file.
#pragma once
#include <nlohmann/json.hpp>
#include <string>

namespace memsig {

// A signature.json (or its "control" part, or a probed model of a partial file), in place.
void upgrade_probed_json(nlohmann::json& j);
void upgrade_signature_json(nlohmann::json& j);
// A partial file {"settings", "trained", "control"}, in place.
void upgrade_partial_json(nlohmann::json& j);
// "gru 1x320" from the settings of files that predate the "model" setting; "" when they lack it.
std::string legacy_model_label(const nlohmann::json& settings);

}  // namespace memsig
