#include "probe/signature.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <functional>
#include <random>
#include <set>

#include "engine/files.h"
#include "engine/stop_points.h"

namespace memsig {

using json = nlohmann::json;

namespace {

constexpr int V = kNumSymbols;

// Probes the requested entries of one source (the trained model, or its control). `done` holds
// entries finished earlier (from a checkpoint); each newly finished one is appended and `save` called.
std::vector<EntrySignature> probe_source(const StateSource& source, const Corpus& corpus, const SignatureOptions& opt,
                                         const char* what, std::vector<EntrySignature> done,
                                         const std::function<void(const std::vector<EntrySignature>&)>& save) {
  StateOptions so = opt.states;
  if (so.entries.empty()) for (size_t e = 0; e < source.entries().size(); ++e) so.entries.push_back((int)e);
  const std::vector<int> asked_for = so.entries;  // the result: finished earlier or now
  std::vector<int> todo;
  for (int e : asked_for) {
    bool finished = false;
    for (auto& d : done) finished = finished || d.layer == e + 1;
    if (!finished) todo.push_back(e);
  }
  if (todo.size() < asked_for.size() && !opt.quiet)
    std::fprintf(stderr, "%s: %zu layer(s) taken from the checkpoint %s\n", what, asked_for.size() - todo.size(),
                 opt.checkpoint.c_str());
  if (!todo.empty()) {
    so.entries = todo;
    auto t0 = std::chrono::steady_clock::now();
    std::string key = source.identity() + "|state " + source.state_kind() + "|" + corpus.name + " " + corpus_digest(corpus) + "|lag " +
                      std::to_string(so.max_lag) + " seed " + std::to_string(so.seed) + " batch " + std::to_string(so.batch) +
                      " positions " + std::to_string(opt.max_train_positions) + "/" + std::to_string(opt.max_eval_positions) +
                      " entries";
    for (int e : so.entries) key += " " + std::to_string(e);
    StateCache local;
    StateCache& c = opt.state_cache ? *opt.state_cache : local;
    const bool reused = c.key == key;
    if (!reused) {
      c.key.clear();  // invalid until all three are in
      so.max_positions = opt.max_train_positions;
      c.train = extract_states(source, corpus.train, so, corpus.features.get(), "train");
      so.max_positions = opt.max_eval_positions;
      so.seed += 1;
      c.valid = extract_states(source, corpus.valid, so, corpus.features.get(), "valid");
      so.seed += 1;
      c.test = extract_states(source, corpus.test, so, corpus.features.get(), "test");
      c.key = key;
    }
    const StateSet &train = c.train, &valid = c.valid, &test = c.test;
    double t_extract = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    if (!opt.quiet)
      std::fprintf(stderr, "%s: states of %lld/%lld/%lld positions (train/valid/test) %s %.1f s\n", what,
                   (long long)train.n, (long long)valid.n, (long long)test.n, reused ? "reused from memory," : "in",
                   t_extract);
    const int64_t kMinTrain = 100, kMinEval = 20;
    if (train.n < kMinTrain || valid.n < kMinEval || test.n < kMinEval)
      throw std::invalid_argument("too few positions to probe: " + std::to_string(train.n) + "/" + std::to_string(valid.n) +
                                  "/" + std::to_string(test.n) + " (train/valid/test; need at least " +
                                  std::to_string(kMinTrain) + "/" + std::to_string(kMinEval) + "/" + std::to_string(kMinEval) +
                                  "): more text, or a larger --max-positions");
    for (size_t e = 0; e < train.entries.size(); ++e) {
      auto t1 = std::chrono::steady_clock::now();
      if (!opt.quiet) std::fprintf(stderr, "%s %s: training %d decoders\n", what, train.names[e].c_str(), train.max_lag);
      EntrySignature es;
      es.layer = train.entries[e] + 1;
      es.name = train.names[e];
      es.state = source.state_kind();
      es.lags = probe_layer(train, valid, test, e, opt.probe);
      es.test_targets.assign(test.history.begin(), test.history.end());
      for (size_t i = 0; i < test.segment.size(); ++i)
        if (i == 0 || test.segment[i] != test.segment[i - 1]) es.test_clusters.push_back(1);
        else es.test_clusters.back()++;
      if (!opt.quiet) {
        double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t1).count();
        std::fprintf(stderr, "%s %s (%s, %.1f s): test accuracy by lag:", what, es.name.c_str(), es.state.c_str(), secs);
        for (auto& r : es.lags) std::fprintf(stderr, " %.3f", r.accuracy);
        std::fprintf(stderr, "\n");
      }
      done.push_back(std::move(es));
      save(done);
      stop_point("probe.entry");
    }
  }
  std::vector<EntrySignature> asked;  // a checkpoint may hold layers this run did not ask for
  for (int e : asked_for) {
    auto it = std::find_if(done.begin(), done.end(), [&](const EntrySignature& d) { return d.layer == e + 1; });
    if (it == done.end()) throw std::logic_error("probe: layer " + std::to_string(e + 1) + " was neither probed nor taken from the checkpoint");
    asked.push_back(*it);
  }
  std::sort(asked.begin(), asked.end(), [](const EntrySignature& a, const EntrySignature& b) { return a.layer < b.layer; });
  return asked;
}

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

ProbedModel probed_from_json(const json& j, const std::string& path, const std::string& where) {
  ProbedModel pm;
  const json& layers = field(j, "layers", path, where);
  if (!layers.is_array() || layers.empty()) bad(path, where, "'layers' must be a non-empty array");
  for (size_t i = 0; i < layers.size(); ++i)
    pm.layers.push_back(entry_from_json(layers[i], path, where + "layer entry " + std::to_string(i + 1) + ": "));
  pm.forward = forward_from_json(j, path, where);
  return pm;
}

}  // namespace

json signature_settings(const StateSource& source, const Corpus& corpus, const SignatureOptions& opt) {
  const ProbeOptions& p = opt.probe;
  return {{"corpus", corpus.name}, {"corpus_digest", corpus_digest(corpus)}, {"model", source.describe()}, {"model_identity", source.identity()},
          {"max_lag", opt.states.max_lag}, {"state", source.state_kind()},
          {"max_train_positions", opt.max_train_positions}, {"max_eval_positions", opt.max_eval_positions},
          {"decoder_hidden", p.hidden}, {"decoder_depth", p.depth}, {"keep_prob", p.keep_prob},
          {"sweep_dropout", p.sweep_dropout}, {"lr", p.lr}, {"batch", p.batch}, {"max_epochs", p.max_epochs},
          {"patience", p.patience}, {"early_stopping", p.stop_together ? "bank" : "per decoder"}, {"bootstrap", p.bootstrap}, {"seed", opt.states.seed}, {"control", opt.control},
          {"targets", "the symbol d positions before the current one; <s> and positions before the segment start are skipped"},
          {"split", "decoders trained on train, selected on valid, reported on test"}};
}

Signature compute_signature(const StateSource& source, const Corpus& corpus, const SignatureOptions& opt) {
  check_probe_options(opt.probe);
  if (opt.states.max_lag < 1) throw std::invalid_argument("--max-lag must be at least 1");
  std::unique_ptr<StateSource> untrained;  // asked for first: a kind without one fails before any work
  if (opt.control) {
    untrained = source.untrained_control(opt.states.seed + 1000);
    if (!untrained) throw std::invalid_argument(source.describe() + " has no untrained control (--control)");
  }
  json settings = signature_settings(source, corpus, opt);
  // Layers finished by an earlier, stopped run with the same settings and model.
  std::vector<EntrySignature> trained_done, control_done;
  if (!opt.checkpoint.empty() && file_exists(opt.checkpoint)) {
    json old;
    try {
      old = json::parse(read_file(opt.checkpoint));
    } catch (const json::exception& e) {
      throw FileError(opt.checkpoint, std::string("not valid JSON: ") + e.what());
    }
    if (old.is_object() && old.value("settings", json()) == settings) {
      for (const char* group : {"trained", "control"}) {
        const json& g = field(old, group, opt.checkpoint, "");
        if (!g.is_array()) bad(opt.checkpoint, "", std::string("'") + group + "' is not an array");
        for (size_t i = 0; i < g.size(); ++i)
          (std::string(group) == "trained" ? trained_done : control_done)
              .push_back(entry_from_json(g[i], opt.checkpoint, std::string(group) + " entry " + std::to_string(i + 1) + ": "));
      }
    } else if (!opt.quiet) {
      std::fprintf(stderr, "%s: written for other settings or another model; starting afresh\n", opt.checkpoint.c_str());
    }
  }
  json ckpt = {{"settings", settings}, {"trained", json::array()}, {"control", json::array()}};
  for (auto& e : trained_done) ckpt["trained"].push_back(to_json(e));
  for (auto& e : control_done) ckpt["control"].push_back(to_json(e));
  auto saver = [&](const char* group) {
    return [&, group](const std::vector<EntrySignature>& layers) {
      if (opt.checkpoint.empty()) return;
      ckpt[group] = json::array();
      for (auto& e : layers) ckpt[group].push_back(to_json(e));
      write_text_atomically(opt.checkpoint, ckpt.dump());
    };
  };
  Signature sig;
  sig.trained.layers = probe_source(source, corpus, opt, "trained", trained_done, saver("trained"));
  if (const LanguageModel* lm = source.language_model()) sig.trained.forward = forward_accuracy(*lm, corpus.test);
  if (untrained) {
    ProbedModel c;
    if (const LanguageModel* lm = untrained->language_model()) c.forward = forward_accuracy(*lm, corpus.test);
    c.layers = probe_source(*untrained, corpus, opt, "untrained control", control_done, saver("control"));
    sig.control = c;
  }
  if (opt.perfect_memory_k > 0) {
    sig.perfect = perfect_memory(corpus.train, corpus.test, opt.perfect_memory_k, opt.states.max_lag);
    attach_memory_equivalents(sig);
  }
  sig.settings = settings;
  return sig;
}

void attach_memory_equivalents(Signature& sig) {
  if (!sig.perfect) return;
  for (auto* pm : {&sig.trained, sig.control ? &*sig.control : nullptr}) {
    if (!pm) continue;
    for (auto& e : pm->layers) {
      std::vector<double> acc;
      for (auto& r : e.lags) if (r.lag <= sig.perfect->D && r.lag == (int)acc.size() + 1) acc.push_back(r.accuracy);
      e.memory_equivalent_k = memory_equivalent_k(*sig.perfect, acc);
    }
  }
}

json to_json(const EntrySignature& e) {
  json j = {{"layer", e.layer}, {"name", e.name}, {"state", e.state}};
  if (!e.memory_equivalent_k.empty()) j["memory_equivalent_k"] = e.memory_equivalent_k;
  if (!e.test_targets.empty()) {
    j["test_rows"] = e.lags.empty() ? 0 : e.lags[0].test_predictions.size();
    j["test_clusters"] = e.test_clusters;
    j["test_targets"] = encode_symbols(e.test_targets);
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

json to_json(const Signature& sig) {
  auto probed = [](const ProbedModel& pm) {
    json j = {{"layers", json::array()}};
    for (auto& e : pm.layers) j["layers"].push_back(to_json(e));
    if (pm.forward) j["forward"] = forward_json(*pm.forward);
    return j;
  };
  json j = {{"symbols", symbol_names()}};
  json t = probed(sig.trained);
  j["layers"] = t["layers"];
  if (t.contains("forward")) j["forward"] = t["forward"];
  if (sig.control) j["control"] = probed(*sig.control);
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

EntrySignature entry_from_json(const json& j, const std::string& path, const std::string& where) {
  if (!j.is_object()) bad(path, where, "is not an object");
  EntrySignature e;
  const json& layer = field(j, "layer", path, where);
  if (!layer.is_number_integer() || layer.get<int64_t>() < 1 || layer.get<int64_t>() > 100000)
    bad(path, where, "'layer' is not a positive layer number");
  e.layer = layer.get<int>();
  e.name = j.contains("name") && j["name"].is_string() ? j["name"].get<std::string>() : "layer " + std::to_string(e.layer);
  e.state = j.contains("state") && j["state"].is_string() ? j["state"].get<std::string>() : "";
  const char* lag_key = j.contains("lag") ? "lag" : "delta";  // "delta": files from before the rename
  const json& lags = field(j, lag_key, path, where);
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
  if (j.contains("test_rows")) {
    const json& rows = j["test_rows"];
    if (!rows.is_number_integer() || rows.get<int64_t>() < 0 || rows.get<int64_t>() > 100000000)
      bad(path, where, "'test_rows' is not a row count");
    const size_t n = (size_t)rows.get<int64_t>();
    const json& tp = field(j, "test_predictions", path, where);
    if (!tp.is_array() || tp.size() != L) bad(path, where, "'test_predictions' must have one entry per lag");
    e.test_targets = decode_symbols(field(j, "test_targets", path, where), n * L, path, where + "'test_targets'");
    for (size_t i = 0; i < L; ++i)
      e.lags[i].test_predictions = decode_symbols(tp[i], n, path, where + "'test_predictions' " + std::to_string(i + 1));
    if (j.contains("test_clusters")) {
      const json& tc = j["test_clusters"];
      size_t total = 0;
      if (!tc.is_array()) bad(path, where, "'test_clusters' is not an array");
      for (auto& c : tc) {
        if (!c.is_number_integer() || c.get<int64_t>() < 1 || c.get<int64_t>() > (int64_t)n) bad(path, where, "'test_clusters' holds a bad count");
        total += (size_t)c.get<int64_t>();
        e.test_clusters.push_back(c.get<int32_t>());
      }
      if (total != n) bad(path, where, "'test_clusters' does not add up to 'test_rows'");
    }
  }
  return e;
}

Signature signature_from_json(const json& j, const std::string& path) {
  if (!j.is_object()) bad(path, "", "not a memsig signature.json (not a JSON object)");
  if (!j.contains("symbols") || j["symbols"] != json(symbol_names())) bad(path, "", "symbol table differs from memsig's (or is missing)");
  Signature sig;
  sig.trained = probed_from_json(j, path, "");
  if (j.contains("control") && !j["control"].is_null()) sig.control = probed_from_json(j["control"], path, "control ");
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

Signature load_signature(const std::string& path) {
  json j;
  try {
    j = json::parse(read_file(path));
  } catch (const json::exception& e) {
    throw FileError(path, std::string("not valid JSON: ") + e.what());
  }
  return signature_from_json(j, path);
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
  if (st.is_object() && st.contains("cell") && st.contains("model_layers") && st.contains("hidden"))  // older files
    return st["cell"].get<std::string>() + " " + std::to_string(st["model_layers"].get<int>()) + "x" +
           std::to_string(st["hidden"].get<int>());
  return "model";
}

std::vector<int> symbols_present(const EntrySignature& layer) {
  std::vector<int> out;
  for (int s = 0; s < V; ++s) {
    int64_t total = 0;
    for (auto& r : layer.lags) total += r.count[s];
    if (total > 0) out.push_back(s);
  }
  return out;
}

namespace {

// Paired cluster bootstrap of B - A over the test rows both layers were measured on (see signature.h).
void paired_bootstrap(const EntrySignature& la, const EntrySignature& lb, LayerDiff& d, int resamples, uint64_t seed) {
  const size_t L = la.lags.size();
  if (la.test_targets.empty() || la.test_targets != lb.test_targets || lb.lags.size() != L) return;
  const size_t n = la.lags[0].test_predictions.size();
  // Clusters: [start, end) row ranges (one row each when the files predate clusters).
  std::vector<std::pair<size_t, size_t>> clusters;
  const std::vector<int32_t>& sizes = la.test_clusters.empty() ? lb.test_clusters : la.test_clusters;
  for (size_t at = 0, c = 0; at < n; ++c) {
    size_t len = c < sizes.size() ? (size_t)sizes[c] : 1;
    clusters.push_back({at, std::min(n, at + len)});
    at += len;
  }
  std::vector<size_t> ia, ib;  // each compared lag's column in the two layers
  for (int lag : d.lags) {
    for (size_t i = 0; i < L; ++i) if (la.lags[i].lag == lag) ia.push_back(i);
    for (size_t i = 0; i < lb.lags.size(); ++i) if (lb.lags[i].lag == lag) ib.push_back(i);
  }
  const size_t D = d.lags.size(), S = d.symbols.size();
  std::vector<int> col_of(kNumSymbols, -1);
  for (size_t c = 0; c < S; ++c) col_of[d.symbols[c]] = (int)c;
  std::vector<std::vector<double>> acc(D), rec(D * S);
  std::mt19937_64 rng(seed);
  std::uniform_int_distribution<size_t> pick(0, clusters.size() - 1);
  std::vector<int64_t> cnt(D * kNumSymbols), da(D * kNumSymbols);
  for (int r = 0; r < resamples; ++r) {
    std::fill(cnt.begin(), cnt.end(), 0);
    std::fill(da.begin(), da.end(), 0);
    for (size_t k = 0; k < clusters.size(); ++k) {
      auto [from, to] = clusters[pick(rng)];
      for (size_t row = from; row < to; ++row)
        for (size_t j = 0; j < D; ++j) {
          int t = la.test_targets[row * L + ia[j]];
          if (t < 0) continue;
          cnt[j * kNumSymbols + t]++;
          da[j * kNumSymbols + t] += (lb.lags[ib[j]].test_predictions[row] == t) - (la.lags[ia[j]].test_predictions[row] == t);
        }
    }
    for (size_t j = 0; j < D; ++j) {
      int64_t total = 0, diff = 0;
      for (int t = 0; t < kNumSymbols; ++t) {
        total += cnt[j * kNumSymbols + t];
        diff += da[j * kNumSymbols + t];
        if (col_of[t] >= 0 && cnt[j * kNumSymbols + t] > 0)
          rec[j * S + col_of[t]].push_back((double)da[j * kNumSymbols + t] / cnt[j * kNumSymbols + t]);
      }
      acc[j].push_back(total ? (double)diff / total : 0.0);
    }
  }
  auto interval = [](std::vector<double>& v) {
    std::sort(v.begin(), v.end());
    return std::pair<double, double>{v[(size_t)(0.025 * (v.size() - 1))], v[(size_t)(0.975 * (v.size() - 1))]};
  };
  d.paired = true;
  for (size_t j = 0; j < D; ++j) {
    auto [lo, hi] = interval(acc[j]);
    d.accuracy_diff.push_back(lb.lags[ib[j]].accuracy - la.lags[ia[j]].accuracy);
    d.accuracy_lo.push_back(lo);
    d.accuracy_hi.push_back(hi);
  }
  // Two-sided bootstrap p-value per cell, then Benjamini-Hochberg at FDR 5% over the cells.
  std::vector<std::pair<double, size_t>> pvals;
  for (size_t c = 0; c < D * S; ++c) {
    if (std::isnan(d.recall_diff[c]) || rec[c].size() < std::max<size_t>(1, (size_t)resamples / 2)) continue;
    double below = 0, above = 0;
    for (double v : rec[c]) { below += v <= 0; above += v >= 0; }
    double p = std::min(1.0, 2 * std::max(1.0, std::min(below, above)) / rec[c].size());
    pvals.push_back({p, c});
  }
  std::sort(pvals.begin(), pvals.end());
  size_t passed = 0;
  for (size_t i = 0; i < pvals.size(); ++i)
    if (pvals[i].first <= 0.05 * (i + 1) / pvals.size()) passed = i + 1;
  d.significant.assign(D * S, 0);
  for (size_t i = 0; i < passed; ++i) d.significant[pvals[i].second] = 1;
}

}  // namespace

std::vector<LayerDiff> diff_signatures(const Signature& a, const Signature& b, int bootstrap, uint64_t seed) {
  std::vector<LayerDiff> out;
  for (auto& la : a.trained.layers) {
    auto lb_it = std::find_if(b.trained.layers.begin(), b.trained.layers.end(),
                              [&](const EntrySignature& e) { return e.layer == la.layer; });
    if (lb_it == b.trained.layers.end()) continue;
    const EntrySignature& lb = *lb_it;
    LayerDiff d;
    d.layer = la.layer;
    auto pa = symbols_present(la), pb = symbols_present(lb);
    for (int s : pa) if (std::find(pb.begin(), pb.end(), s) != pb.end()) d.symbols.push_back(s);
    double sum_abs = 0, cells = 0, sq = 0;
    for (auto& ra : la.lags) {
      auto rb_it = std::find_if(lb.lags.begin(), lb.lags.end(), [&](const LagResult& r) { return r.lag == ra.lag; });
      if (rb_it == lb.lags.end()) continue;
      const LagResult& rb = *rb_it;
      d.lags.push_back(ra.lag);
      for (int s : d.symbols) {
        bool enough = ra.count[s] >= kMinRecallCount && rb.count[s] >= kMinRecallCount;
        double v = enough ? rb.recall[s] - ra.recall[s] : NAN;
        d.recall_diff.push_back(v);
        if (!std::isnan(v)) { sum_abs += std::abs(v); cells += 1; }
      }
      double dm = rb.accuracy - ra.accuracy;
      sq += dm * dm;
    }
    if (d.lags.empty()) continue;
    d.mean_abs = cells ? sum_abs / cells : NAN;
    d.marginal_rms = std::sqrt(sq / d.lags.size());
    if (bootstrap > 0) paired_bootstrap(la, lb, d, bootstrap, seed);
    out.push_back(std::move(d));
  }
  if (out.empty()) throw std::invalid_argument("the two signatures share no layer and lag to compare");
  return out;
}

}  // namespace memsig
