#include "probe/signature_json.h"

#include <algorithm>
#include <cmath>
#include <set>

#include "engine/files.h"
#include "probe/signature_legacy.h"

namespace memsig {

using json = nlohmann::json;

namespace {

constexpr int V = kNumSymbols;

json forward_json(const ForwardAccuracy& f) { return {{"recall", f.recall}, {"count", f.count}, {"accuracy", f.accuracy}}; }

// --- reading, with every field checked --------------------------------------------------------

[[noreturn]] void bad(const std::string& path, const std::string& where, const std::string& what) {
  throw FileError(path, where + what);
}

const json& field(const json& j, const char* key, const std::string& path, const std::string& where) {
  if (!j.is_object() || !j.contains(key)) bad(path, where, std::string("lacks '") + key + "'");
  return j[key];
}

// An array of n numbers (null allowed where `nullable`, read as NaN).
std::vector<double> numbers(const json& a, size_t n, bool nullable, const std::string& path, const std::string& what) {
  if (!a.is_array() || a.size() != n) bad(path, what, " must be an array of " + std::to_string(n) + " numbers");
  std::vector<double> out;
  for (auto& v : a) {
    if (v.is_number()) out.push_back(v.get<double>());
    else if (v.is_null() && nullable) out.push_back(NAN);
    else bad(path, what, " holds a non-number");
  }
  return out;
}

std::vector<int64_t> counts(const json& a, size_t n, const std::string& path, const std::string& what) {
  if (!a.is_array() || a.size() != n) bad(path, what, " must be an array of " + std::to_string(n) + " counts");
  std::vector<int64_t> out;
  for (auto& v : a) {
    if (!v.is_number_integer() || v.get<int64_t>() < 0) bad(path, what, " holds something that is not a count");
    out.push_back(v.get<int64_t>());
  }
  return out;
}

// Symbol arrays travel in JSON as base64 of bytes (value + 1, so -1 "no target" is byte 0).
std::string encode_symbols(const std::vector<int8_t>& v) {
  static const char* tab = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  for (size_t i = 0; i < v.size(); i += 3) {
    uint32_t n = 0;
    int k = 0;
    for (; k < 3; ++k) n = n << 8 | (i + k < v.size() ? (uint8_t)(v[i + k] + 1) : 0);
    int chars = (int)std::min<size_t>(3, v.size() - i) + 1;
    for (int j = 0; j < 4; ++j) out += j < chars ? tab[(n >> (18 - 6 * j)) & 63] : '=';
  }
  return out;
}

std::vector<int8_t> decode_symbols(const json& j, size_t n, const std::string& path, const std::string& what) {
  if (!j.is_string() || j.get_ref<const std::string&>().size() != (n + 2) / 3 * 4)
    bad(path, what, " must be base64 of " + std::to_string(n) + " bytes");
  const std::string& t = j.get_ref<const std::string&>();
  auto val = [&](char c) -> int {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    if (c == '=') return 0;
    bad(path, what, " is not base64");
  };
  std::vector<int8_t> out;
  for (size_t i = 0; i < t.size(); i += 4) {
    uint32_t v = 0;
    for (int j2 = 0; j2 < 4; ++j2) v = v << 6 | val(t[i + j2]);
    for (int k = 0; k < 3 && out.size() < n; ++k) {
      int b = (v >> (16 - 8 * k)) & 255;
      if (b > kNumSymbols) bad(path, what, " holds a byte that is no symbol");
      out.push_back((int8_t)(b - 1));
    }
  }
  return out;
}

std::optional<ForwardAccuracy> forward_from_json(const json& j, const std::string& path, const std::string& where) {
  if (!j.contains("forward") || j["forward"].is_null()) return std::nullopt;
  const json& f = j["forward"];
  ForwardAccuracy fa;
  fa.recall = numbers(field(f, "recall", path, where + "forward "), V, true, path, where + "forward 'recall'");
  fa.count = counts(field(f, "count", path, where + "forward "), V, path, where + "forward 'count'");
  const json& acc = field(f, "accuracy", path, where + "forward ");
  if (!acc.is_number()) bad(path, where, "forward 'accuracy' is not a number");
  fa.accuracy = acc.get<double>();
  return fa;
}

// {"test_rows": n, "test_lags": L, "test_targets": base64 of [n x L], "test_clusters": [...]}
TestRows test_rows_from_json(const json& j, const std::string& path, const std::string& where) {
  TestRows t;
  const json& rows = j["test_rows"];
  if (!rows.is_number_integer() || rows.get<int64_t>() < 0 || rows.get<int64_t>() > 100000000)
    bad(path, where, "'test_rows' is not a row count");
  const json& lags = field(j, "test_lags", path, where);
  if (!lags.is_number_integer() || lags.get<int64_t>() < 1 || lags.get<int64_t>() > 100000)
    bad(path, where, "'test_lags' is not a lag count");
  t.rows = rows.get<int64_t>();
  t.lags = lags.get<int>();
  if ((size_t)t.rows * (size_t)t.lags > (size_t)1 << 34) bad(path, where, "'test_rows' x 'test_lags' is too large");
  t.targets = decode_symbols(field(j, "test_targets", path, where), (size_t)t.rows * t.lags, path, where + "'test_targets'");
  if (j.contains("test_clusters")) {
    const json& tc = j["test_clusters"];
    int64_t total = 0;
    if (!tc.is_array()) bad(path, where, "'test_clusters' is not an array");
    for (auto& c : tc) {
      if (!c.is_number_integer() || c.get<int64_t>() < 1 || c.get<int64_t>() > t.rows) bad(path, where, "'test_clusters' holds a bad count");
      total += c.get<int64_t>();
      t.clusters.push_back(c.get<int32_t>());
    }
    if (total != t.rows) bad(path, where, "'test_clusters' does not add up to 'test_rows'");
  }
  return t;
}

void test_rows_to_json(const TestRows& t, json& j) {
  if (t.empty()) return;
  j["test_rows"] = t.rows;
  j["test_lags"] = t.lags;
  j["test_targets"] = encode_symbols(t.targets);
  j["test_clusters"] = t.clusters;
}

}  // namespace

ProbedModel probed_from_json(const json& j, const std::string& path, const std::string& where, bool allow_empty,
                             const TestRows* shared) {
  ProbedModel pm;
  const json& entries = field(j, "entries", path, where);
  if (!entries.is_array() || (entries.empty() && !allow_empty)) bad(path, where, "'entries' must be a non-empty array");
  if (j.contains("test_rows")) pm.test = test_rows_from_json(j, path, where);
  else if (shared) pm.test = *shared;
  for (size_t i = 0; i < entries.size(); ++i)
    pm.entries.push_back(entry_from_json(entries[i], path, where + "entry " + std::to_string(i + 1) + ": ",
                                         pm.test.empty() ? -1 : pm.test.rows));
  pm.forward = forward_from_json(j, path, where);
  return pm;
}

json to_json(const EntrySignature& e) {
  json j = {{"entry", e.entry}, {"name", e.name}, {"state", e.state}};
  if (!e.memory_equivalent_k.empty()) j["memory_equivalent_k"] = e.memory_equivalent_k;
  if (!e.lags.empty() && !e.lags[0].test_predictions.empty()) {
    j["test_predictions"] = json::array();
    for (auto& r : e.lags) j["test_predictions"].push_back(encode_symbols(r.test_predictions));
  }
  for (const char* k : {"lag", "accuracy", "ci95", "chance", "n", "recall", "count", "confusion", "keep_prob", "valid_accuracy"})
    j[k] = json::array();
  for (auto& r : e.lags) {
    j["lag"].push_back(r.lag);
    j["accuracy"].push_back(r.accuracy);
    j["ci95"].push_back({r.ci_lo, r.ci_hi});
    j["chance"].push_back(r.chance);
    j["n"].push_back(r.n);
    j["recall"].push_back(r.recall);  // NaN -> null
    j["count"].push_back(r.count);
    j["confusion"].push_back(r.confusion);
    j["keep_prob"].push_back(r.keep_prob);
    j["valid_accuracy"].push_back(r.valid_accuracy);
  }
  return j;
}

json to_json(const ProbedModel& pm) {
  json j = {{"entries", json::array()}};
  for (auto& e : pm.entries) j["entries"].push_back(to_json(e));
  if (pm.forward) j["forward"] = forward_json(*pm.forward);
  test_rows_to_json(pm.test, j);
  return j;
}

json to_json(const Signature& sig) {
  json j = to_json(sig.trained);
  j["symbols"] = symbol_names();
  if (sig.control) {
    j["control"] = to_json(*sig.control);
    if (sig.control->test == sig.trained.test)  // kept once: the control's rows are the trained model's
      for (const char* k : {"test_rows", "test_lags", "test_targets", "test_clusters"}) j["control"].erase(k);
  }
  if (sig.perfect) {
    json acc = json::array();
    for (int k = 0; k <= sig.perfect->K; ++k)
      acc.push_back(std::vector<double>(sig.perfect->accuracy[k].begin() + 1, sig.perfect->accuracy[k].end()));
    j["perfect_memory"] = {{"max_k", sig.perfect->K}, {"accuracy", acc},
                           {"count", std::vector<int64_t>(sig.perfect->count.begin() + 1, sig.perfect->count.end())}};
  }
  j["settings"] = sig.settings;
  return j;
}

EntrySignature entry_from_json(const json& j, const std::string& path, const std::string& where, int64_t test_rows) {
  if (!j.is_object()) bad(path, where, "is not an object");
  EntrySignature e;
  const json& number = field(j, "entry", path, where);
  if (!number.is_number_integer() || number.get<int64_t>() < 1 || number.get<int64_t>() > 100000)
    bad(path, where, "'entry' is not a positive entry number");
  e.entry = number.get<int>();
  e.name = j.contains("name") && j["name"].is_string() ? j["name"].get<std::string>() : "entry " + std::to_string(e.entry);
  e.state = j.contains("state") && j["state"].is_string() ? j["state"].get<std::string>() : "";
  const json& lags = field(j, "lag", path, where);
  if (!lags.is_array() || lags.empty()) bad(path, where, "'lag' must be a non-empty array");
  const size_t L = lags.size();
  std::set<int64_t> seen;
  for (auto& l : lags)
    if (!l.is_number_integer() || l.get<int64_t>() < 1 || l.get<int64_t>() > 100000 || !seen.insert(l.get<int64_t>()).second)
      bad(path, where, "'lag' must hold distinct positive integers");
  auto acc = numbers(field(j, "accuracy", path, where), L, false, path, where + "'accuracy'");
  auto chance = numbers(field(j, "chance", path, where), L, false, path, where + "'chance'");
  auto n = counts(field(j, "n", path, where), L, path, where + "'n'");
  const json& ci = field(j, "ci95", path, where);
  const json& recall = field(j, "recall", path, where);
  const json& count = field(j, "count", path, where);
  if (!ci.is_array() || ci.size() != L) bad(path, where, "'ci95' must have one [lo, hi] per lag");
  if (!recall.is_array() || recall.size() != L) bad(path, where, "'recall' must have one row per lag");
  if (!count.is_array() || count.size() != L) bad(path, where, "'count' must have one row per lag");
  for (size_t i = 0; i < L; ++i) {
    LagResult r;
    r.lag = lags[i].get<int>();
    r.accuracy = acc[i];
    r.chance = chance[i];
    r.n = n[i];
    auto lohi = numbers(ci[i], 2, false, path, where + "'ci95' row");
    r.ci_lo = lohi[0];
    r.ci_hi = lohi[1];
    r.recall = numbers(recall[i], V, true, path, where + "'recall' row " + std::to_string(i + 1));
    r.count = counts(count[i], V, path, where + "'count' row " + std::to_string(i + 1));
    if (j.contains("confusion") && j["confusion"].is_array() && j["confusion"].size() == L)
      r.confusion = counts(j["confusion"][i], (size_t)V * V, path, where + "'confusion' row " + std::to_string(i + 1));
    if (j.contains("keep_prob") && j["keep_prob"].is_array() && j["keep_prob"].size() == L && j["keep_prob"][i].is_number())
      r.keep_prob = j["keep_prob"][i].get<float>();
    if (j.contains("valid_accuracy") && j["valid_accuracy"].is_array() && j["valid_accuracy"].size() == L &&
        j["valid_accuracy"][i].is_number())
      r.valid_accuracy = j["valid_accuracy"][i].get<double>();
    e.lags.push_back(std::move(r));
  }
  if (test_rows >= 0 && j.contains("test_predictions")) {
    const json& tp = j["test_predictions"];
    if (!tp.is_array() || tp.size() != L) bad(path, where, "'test_predictions' must have one entry per lag");
    for (size_t i = 0; i < L; ++i)
      e.lags[i].test_predictions = decode_symbols(tp[i], (size_t)test_rows, path, where + "'test_predictions' " + std::to_string(i + 1));
  }
  return e;
}

namespace {

// Reads today's form (signature_from_json brings older files to it first).
Signature read_signature(const json& j, const std::string& path) {
  if (!j.is_object()) bad(path, "", "not a memsig signature.json (not a JSON object)");
  if (!j.contains("symbols") || j["symbols"] != json(symbol_names())) bad(path, "", "symbol table differs from memsig's (or is missing)");
  Signature sig;
  sig.trained = probed_from_json(j, path, "");
  if (j.contains("control") && !j["control"].is_null())
    sig.control = probed_from_json(j["control"], path, "control ", false, &sig.trained.test);
  if (j.contains("perfect_memory") && !j["perfect_memory"].is_null()) {
    const json& p = j["perfect_memory"];
    const json& K = field(p, "max_k", path, "perfect_memory ");
    if (!K.is_number_integer() || K.get<int64_t>() < 1 || K.get<int64_t>() > 10) bad(path, "", "perfect_memory 'max_k' is not 1..10");
    const json& acc = field(p, "accuracy", path, "perfect_memory ");
    if (!acc.is_array() || acc.size() != (size_t)K.get<int>() + 1 || !acc[0].is_array() || acc[0].empty())
      bad(path, "", "perfect_memory 'accuracy' must have one row per k = 0..max_k");
    PerfectMemory pm;
    pm.K = K.get<int>();
    pm.D = (int)acc[0].size();
    for (int k = 0; k <= pm.K; ++k) {
      auto row = numbers(acc[k], pm.D, true, path, "perfect_memory 'accuracy' row");
      row.insert(row.begin(), NAN);  // index by lag, as perfect_memory() does
      pm.accuracy.push_back(row);
    }
    pm.count = counts(field(p, "count", path, "perfect_memory "), pm.D, path, "perfect_memory 'count'");
    pm.count.insert(pm.count.begin(), 0);
    sig.perfect = pm;
    attach_memory_equivalents(sig);
  }
  sig.settings = j.contains("settings") ? j["settings"] : json::object();
  return sig;
}

}  // namespace

Signature signature_from_json(const json& j, const std::string& path) {
  json current = j;
  upgrade_signature_json(current);
  return read_signature(current, path);
}

Signature signature_from_json(json&& j, const std::string& path) {
  upgrade_signature_json(j);
  return read_signature(j, path);
}

Signature load_signature(const std::string& path) {
  json j;
  try {
    j = json::parse(read_file(path));
  } catch (const json::exception& e) {
    throw FileError(path, std::string("not valid JSON: ") + e.what());
  }
  return signature_from_json(std::move(j), path);
}

bool is_control_spec(const std::string& spec) {
  const std::string suffix = ":control";
  return spec.size() > suffix.size() && spec.compare(spec.size() - suffix.size(), suffix.size(), suffix) == 0;
}

std::string signature_file(const std::string& spec) {
  return is_control_spec(spec) ? spec.substr(0, spec.size() - 8) : spec;
}

Signature load_signature_spec(const std::string& spec) {
  bool control = is_control_spec(spec);
  std::string path = control ? spec.substr(0, spec.size() - 8) : spec;
  Signature sig = load_signature(path);
  if (!control) return sig;
  if (!sig.control) throw FileError(path, "has no control (run signature with --control)");
  sig.trained = *sig.control;
  sig.control.reset();
  return sig;
}

std::string model_label(const Signature& sig) {
  const json& st = sig.settings;
  if (st.is_object() && st.contains("model") && st["model"].is_string()) return st["model"].get<std::string>();
  std::string older = legacy_model_label(st);
  return older.empty() ? "model" : older;
}

}  // namespace memsig
