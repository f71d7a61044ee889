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

}  // namespace

void upgrade_probed_json(json& j) {
  rename_key(j, "layers", "entries");
  if (!j.is_object() || !j.contains("entries") || !j["entries"].is_array()) return;
  for (json& e : j["entries"]) {
    rename_key(e, "layer", "entry");
    rename_key(e, "delta", "lag");
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
