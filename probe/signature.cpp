#include "probe/signature.h"

#include <algorithm>
#include <chrono>
#include <functional>
#include <cmath>
#include <cstdio>
#include <sstream>

#include "engine/files.h"
#include "probe/plots.h"

namespace memsig {

using json = nlohmann::json;

namespace {

json layer_json(int layer, const std::string& state, const std::vector<LagResult>& lags) {
  json j = {{"layer", layer}, {"state", state}};
  for (auto& r : lags) {
    j["delta"].push_back(r.d);
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

// Probes the requested layers of one model (the trained one, or the control). `done` holds layers
// finished earlier (from a checkpoint); each newly finished layer is appended and `save` called.
json probe_model(const CharLM& model, const Corpus& corpus, const SignatureOptions& opt, const char* what, json done,
                 const std::function<void(const json&)>& save) {
  std::string kind = opt.states.state.empty() ? default_state_kind(model.cfg.cell) : opt.states.state;
  StateOptions so = opt.states;
  if (so.layers.empty()) for (int l = 0; l < model.cfg.layers; ++l) so.layers.push_back(l);
  std::vector<int> todo;
  for (int l : so.layers) {
    bool finished = false;
    for (auto& d : done) finished = finished || d["layer"].get<int>() == l + 1;
    if (!finished) todo.push_back(l);
  }
  if (!done.empty() && !opt.quiet)
    std::fprintf(stderr, "%s: %zu layer(s) taken from the checkpoint %s\n", what, done.size(), opt.checkpoint.c_str());
  if (todo.empty()) return done;
  so.layers = todo;
  auto t0 = std::chrono::steady_clock::now();
  so.max_positions = opt.max_train_positions;
  StateSet train = extract_states(model, corpus.train, so);
  so.max_positions = opt.max_eval_positions;
  so.seed += 1;
  StateSet valid = extract_states(model, corpus.valid, so);
  so.seed += 1;
  StateSet test = extract_states(model, corpus.test, so);
  double t_extract = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  if (!opt.quiet)
    std::fprintf(stderr, "%s: states of %lld/%lld/%lld positions (train/valid/test) in %.1f s\n", what,
                 (long long)train.n, (long long)valid.n, (long long)test.n, t_extract);
  for (size_t e = 0; e < train.layers.size(); ++e) {
    auto t1 = std::chrono::steady_clock::now();
    if (!opt.quiet) std::fprintf(stderr, "%s layer %d: training %d decoders\n", what, train.layers[e] + 1, train.D);
    auto res = probe_layer(train, valid, test, e, opt.probe);
    double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t1).count();
    if (!opt.quiet) {
      std::fprintf(stderr, "%s layer %d (%s, %.1f s): test accuracy by d:", what, train.layers[e] + 1, kind.c_str(), secs);
      for (auto& r : res) std::fprintf(stderr, " %.3f", r.accuracy);
      std::fprintf(stderr, "\n");
    }
    done.push_back(layer_json(train.layers[e] + 1, kind, res));
    save(done);
  }
  std::sort(done.begin(), done.end(), [](const json& a, const json& b) { return a["layer"] < b["layer"]; });
  return done;
}

std::string fmt(double v) {
  if (std::isnan(v)) return "";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.4f", v);
  return buf;
}

double num(const json& v) { return v.is_number() ? v.get<double>() : NAN; }

void write_layer_csv(const json& layer, const std::string& path) {
  std::ostringstream out;
  out << "d,accuracy,ci95_lo,ci95_hi,chance,n";
  for (int s = 0; s < kNumSymbols; ++s) out << ",recall_" << csv_symbol_name(s);
  for (int s = 0; s < kNumSymbols; ++s) out << ",count_" << csv_symbol_name(s);
  out << "\n";
  for (size_t i = 0; i < layer["delta"].size(); ++i) {
    out << layer["delta"][i].get<int>() << "," << fmt(num(layer["accuracy"][i])) << "," << fmt(num(layer["ci95"][i][0])) << ","
        << fmt(num(layer["ci95"][i][1])) << "," << fmt(num(layer["chance"][i])) << "," << layer["n"][i].get<int64_t>();
    for (int s = 0; s < kNumSymbols; ++s) out << "," << fmt(num(layer["recall"][i][s]));
    for (int s = 0; s < kNumSymbols; ++s) out << "," << layer["count"][i][s].get<int64_t>();
    out << "\n";
  }
  write_text_atomically(path, out.str());
}

void write_marginal_csv(const json& layers, const std::string& path) {
  std::ostringstream out;
  out << "d";
  for (auto& l : layers) out << ",layer" << l["layer"].get<int>() << "_accuracy,layer" << l["layer"].get<int>() << "_chance";
  out << "\n";
  for (size_t i = 0; i < layers[0]["delta"].size(); ++i) {
    out << layers[0]["delta"][i].get<int>();
    for (auto& l : layers) out << "," << fmt(num(l["accuracy"][i])) << "," << fmt(num(l["chance"][i]));
    out << "\n";
  }
  write_text_atomically(path, out.str());
}

std::vector<std::string> lag_labels(const json& layer) {
  std::vector<std::string> rows;
  for (auto& d : layer["delta"]) rows.push_back(std::to_string(d.get<int>()));
  return rows;
}

}  // namespace

std::string csv_symbol_name(int id) {
  static const char* special[] = {"bos", "eos", "unk"};
  if (id < 3) return special[id];
  if (id < 29) return std::string(1, (char)('a' + id - 3));
  static const char* punct[] = {"space", "period", "comma", "digit", "apostrophe"};
  return punct[id - 29];
}

json compute_signature(const CharLM& model, const Corpus& corpus, const SignatureOptions& opt) {
  const ProbeOptions& p = opt.probe;
  json settings = {{"corpus", corpus.name}, {"cell", cell_name(model.cfg.cell)}, {"model_layers", model.cfg.layers},
                   {"hidden", model.cfg.hidden}, {"embed", model.cfg.embed}, {"max_delta", opt.states.max_delta},
                   {"state", opt.states.state.empty() ? default_state_kind(model.cfg.cell) : opt.states.state},
                   {"max_train_positions", opt.max_train_positions}, {"max_eval_positions", opt.max_eval_positions},
                   {"decoder_hidden", p.hidden}, {"decoder_depth", p.depth}, {"keep_prob", p.keep_prob},
                   {"sweep_dropout", p.sweep_dropout}, {"lr", p.lr}, {"batch", p.batch}, {"max_epochs", p.max_epochs},
                   {"patience", p.patience}, {"bootstrap", p.bootstrap}, {"seed", opt.states.seed}, {"control", opt.control},
                   {"targets", "x_{t-d}: the input d steps before the current input; <s> and positions before the segment start are skipped"},
                   {"split", "decoders trained on train, selected on valid, reported on test"}};
  // Layers finished by an earlier, stopped run with the same settings.
  json ckpt = {{"settings", settings}, {"trained", json::array()}, {"control", json::array()}};
  if (!opt.checkpoint.empty() && file_exists(opt.checkpoint)) {
    json old;
    try {
      old = json::parse(read_file(opt.checkpoint));
    } catch (const json::exception& e) {
      throw FileError(opt.checkpoint, std::string("not valid JSON: ") + e.what());
    }
    if (old.value("settings", json()) == settings) ckpt = old;
    else if (!opt.quiet) std::fprintf(stderr, "%s: settings differ from this run's; starting afresh\n", opt.checkpoint.c_str());
  }
  auto saver = [&](const char* group) {
    return [&, group](const json& layers) {
      if (opt.checkpoint.empty()) return;
      ckpt[group] = layers;
      write_text_atomically(opt.checkpoint, ckpt.dump());
    };
  };
  json sig;
  sig["symbols"] = symbol_names();
  sig["layers"] = probe_model(model, corpus, opt, "trained", ckpt["trained"], saver("trained"));
  ForwardAccuracy fa = forward_accuracy(model, corpus.test);
  sig["forward"] = {{"recall", fa.recall}, {"count", fa.count}, {"accuracy", fa.accuracy}};
  if (opt.control) {
    Rng rng(opt.states.seed + 1000);
    CharLM untrained(model.cfg, rng);
    ForwardAccuracy fc = forward_accuracy(untrained, corpus.test);
    sig["control"] = {{"layers", probe_model(untrained, corpus, opt, "untrained control", ckpt["control"], saver("control"))},
                      {"forward", {{"recall", fc.recall}, {"count", fc.count}, {"accuracy", fc.accuracy}}}};
  }
  sig["settings"] = settings;
  return sig;
}

std::vector<int> symbols_present(const json& layer) {
  std::vector<int> out;
  for (int s = 0; s < kNumSymbols; ++s) {
    int64_t total = 0;
    for (auto& row : layer["count"]) total += row[s].get<int64_t>();
    if (total > 0) out.push_back(s);
  }
  return out;
}

Canvas signature_heatmap(const json& sig, const json& layer, const std::string& title, const std::vector<int>& symbols,
                         int min_left) {
  Heatmap h;
  h.min_left = min_left;
  h.title = title;
  h.x_title = "symbol";
  h.y_title = "lag d";
  h.colorbar_title = "recall";
  std::vector<int> cols = symbols.empty() ? symbols_present(layer) : symbols;
  for (int s : cols) h.cols.push_back(symbol_label(s));
  h.rows = lag_labels(layer);
  for (size_t i = 0; i < h.rows.size(); ++i)
    for (int s : cols)
      h.values.push_back(layer["count"][i][s].get<int64_t>() >= kMinRecallCount ? num(layer["recall"][i][s]) : NAN);
  return draw_heatmap(h);
}

Canvas marginal_heatmap(const std::vector<json>& layers, const std::vector<std::string>& names, const std::string& title) {
  Heatmap h;
  h.title = title;
  h.x_title = "";
  h.y_title = "lag d";
  h.colorbar_title = "accuracy";
  h.cols = names;
  h.rows = lag_labels(layers.at(0));
  h.annotate = true;
  h.cell_w = 0;
  for (auto& n : names) h.cell_w = std::max(h.cell_w, Canvas::text_width(n, 12) + 10);
  h.cell_w = std::max(h.cell_w, 44);
  for (size_t i = 0; i < h.rows.size(); ++i)
    for (auto& l : layers) h.values.push_back(i < l["accuracy"].size() ? num(l["accuracy"][i]) : NAN);
  return draw_heatmap(h);
}

void write_signature(const json& sig, const std::string& dir, const std::string& title) {
  make_dirs(dir);
  write_text_atomically(dir + "/signature.json", sig.dump(1) + "\n");
  auto write_set = [&](const json& layers, const std::string& prefix, const std::string& what) {
    std::vector<json> ls;
    std::vector<std::string> names;
    for (auto& l : layers) {
      std::string k = std::to_string(l["layer"].get<int>());
      write_layer_csv(l, dir + "/" + prefix + "signature_l" + k + ".csv");
      signature_heatmap(sig, l, title + what + ", layer " + k + " (" + l["state"].get<std::string>() + ")")
          .save_png(dir + "/" + prefix + "signature_l" + k + ".png");
      ls.push_back(l);
      names.push_back("layer " + k);
    }
    write_marginal_csv(layers, dir + "/" + prefix + "marginal.csv");
    marginal_heatmap(ls, names, title + what + ": accuracy by lag").save_png(dir + "/" + prefix + "marginal.png");
  };
  write_set(sig["layers"], "", "");
  if (sig.contains("control")) write_set(sig["control"]["layers"], "control_", " (untrained control)");
}

json load_signature(const std::string& path) {
  json j;
  try {
    j = json::parse(read_file(path));
  } catch (const json::exception& e) {
    throw FileError(path, std::string("not valid JSON: ") + e.what());
  }
  if (!j.contains("layers") || !j["layers"].is_array() || j["layers"].empty() || !j.contains("symbols"))
    throw FileError(path, "not a memsig signature.json (needs 'symbols' and a non-empty 'layers')");
  if (j["symbols"] != json(symbol_names())) throw FileError(path, "symbol table differs from memsig's");
  for (auto& l : j["layers"])
    for (const char* k : {"delta", "accuracy", "recall", "count"})
      if (!l.contains(k) || !l[k].is_array()) throw FileError(path, std::string("a layer lacks '") + k + "'");
  return j;
}

SignatureDiff diff_signatures(const json& a, const json& b, const std::string& png, const std::string& title) {
  SignatureDiff out;
  size_t L = std::min(a["layers"].size(), b["layers"].size());
  std::vector<Heatmap> maps;
  for (size_t l = 0; l < L; ++l) {
    const json &la = a["layers"][l], &lb = b["layers"][l];
    size_t D = std::min(la["delta"].size(), lb["delta"].size());
    std::vector<int> cols;
    auto pa = symbols_present(la), pb = symbols_present(lb);
    for (int s : pa) if (std::find(pb.begin(), pb.end(), s) != pb.end()) cols.push_back(s);
    Heatmap h;
    h.title = title + (L > 1 ? ", layer " + std::to_string(lb["layer"].get<int>()) : "");
    h.x_title = "symbol";
    h.y_title = "lag d";
    h.colorbar_title = "recall B - A";
    h.diverging = true;
    for (int s : cols) h.cols.push_back(symbol_label(s));
    double sum_abs = 0, n = 0, sq = 0, vmax = 0;
    for (size_t i = 0; i < D; ++i) {
      h.rows.push_back(std::to_string(la["delta"][i].get<int>()));
      for (int s : cols) {
        bool enough = la["count"][i][s].get<int64_t>() >= kMinRecallCount && lb["count"][i][s].get<int64_t>() >= kMinRecallCount;
        double v = enough ? num(lb["recall"][i][s]) - num(la["recall"][i][s]) : NAN;
        h.values.push_back(v);
        if (!std::isnan(v)) { sum_abs += std::abs(v); n += 1; vmax = std::max(vmax, std::abs(v)); }
      }
      double dm = num(lb["accuracy"][i]) - num(la["accuracy"][i]);
      sq += dm * dm;
    }
    h.vmax = vmax;
    out.mean_abs.push_back(n ? sum_abs / n : NAN);
    out.marginal_rms.push_back(D ? std::sqrt(sq / D) : NAN);
    maps.push_back(h);
  }
  // One colour scale for every panel, so layers compare at a glance.
  double vmax = 0;
  for (auto& h : maps) vmax = std::max(vmax, h.vmax);
  std::vector<Canvas> panels;
  for (auto& h : maps) {
    h.vmax = vmax > 0 ? std::ceil(vmax * 10) / 10 : 0.1;
    panels.push_back(draw_heatmap(h));
  }
  (panels.size() == 1 ? panels[0] : stack_panels(panels)).save_png(png);
  return out;
}

}  // namespace memsig
