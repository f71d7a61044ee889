#include "probe/signature_legacy.h"

namespace memsig {

using json = nlohmann::json;

namespace {

// Moves j[from] to j[to] when only the old name is there.
void rename_key(json& j, const char* from, const char* to) {
  if (!j.is_object() || !j.contains(from) || j.contains(to)) return;
  j[to] = std::move(j[from]);
  j.erase(from);
}

// Whether an entry's lag list is 1..L (every file memsig wrote): its test targets' columns are
// then lags 1..L, today's layout.
bool lags_one_to(const json& e, size_t& L) {
  if (!e.contains("lag") || !e["lag"].is_array() || e["lag"].empty()) return false;
  L = e["lag"].size();
  for (size_t i = 0; i < L; ++i)
    if (!e["lag"][i].is_number_integer() || e["lag"][i].get<int64_t>() != (int64_t)i + 1) return false;
  return true;
}

}  // namespace

void upgrade_probed_json(json& j) {
  rename_key(j, "layers", "entries");
  if (!j.is_object() || !j.contains("entries") || !j["entries"].is_array()) return;
  const char* per_entry[] = {"test_rows", "test_targets", "test_clusters"};
  for (json& e : j["entries"]) {
    if (!e.is_object()) continue;
    rename_key(e, "layer", "entry");
    rename_key(e, "delta", "lag");
    if (!e.contains("test_rows")) continue;  // today's form (or a file from before test rows)
    // Test rows kept per entry (each a copy of the same rows): lifted to the probed model once.
    // An entry whose rows cannot be lifted, or differ from those lifted, keeps no answers
    // (test_predictions) either: it is then not paired, as it would not have been before.
    size_t L = 0;
    bool same = lags_one_to(e, L);
    if (same && !j.contains("test_rows")) {
      for (const char* k : per_entry)
        if (e.contains(k)) j[k] = e[k];
      j["test_lags"] = L;
    }
    for (const char* k : per_entry) same = same && j.contains(k) == e.contains(k) && (!e.contains(k) || j[k] == e[k]);
    same = same && j.contains("test_lags") && j["test_lags"] == json(L);
    for (const char* k : per_entry) e.erase(k);
    if (!same) e.erase("test_predictions");
  }
}

void upgrade_signature_json(json& j) {
  upgrade_probed_json(j);
  if (j.is_object() && j.contains("control")) upgrade_probed_json(j["control"]);
}

void upgrade_partial_json(json& j) {
  if (!j.is_object()) return;
  for (const char* part : {"trained", "control"}) {
    if (!j.contains(part)) continue;
    if (j[part].is_array()) j[part] = json{{"entries", std::move(j[part])}};
    upgrade_probed_json(j[part]);
  }
}

std::string legacy_model_label(const json& st) {
  if (!st.is_object() || !st.contains("cell") || !st.contains("model_layers") || !st.contains("hidden")) return "";
  if (!st["cell"].is_string() || !st["model_layers"].is_number_integer() || !st["hidden"].is_number_integer()) return "";
  return st["cell"].get<std::string>() + " " + std::to_string(st["model_layers"].get<int64_t>()) + "x" +
         std::to_string(st["hidden"].get<int64_t>());
}

}  // namespace memsig
