// fig2.cpp — Figure 2: state size. 1-layer GRU and LSTM LMs of 80, 160, 320 and 640 units on PTB:
// marginal recall by lag (a column per model), test perplexities, and a decoder-capacity sweep on
// every model (linear, 1x64, 1x256; also 1x1024 and 2x256 on the 320-unit ones), the best picked
// per model on valid.
#include <cmath>
#include <cstdio>
#include <optional>

#include "engine/files.h"
#include "figures/claims.h"
#include "figures/figures.h"
#include "figures/recipes.h"
#include "figures/render/lineplot.h"
#include "figures/signature_plots.h"
#include "models/model_file.h"

namespace memsig {

namespace {

struct Capacity {
  std::string name;
  int depth, hidden;
};

double mean_valid(const EntrySignature& e) {
  double s = 0;
  for (auto& r : e.lags) s += r.valid_accuracy;
  return s / e.lags.size();
}

}  // namespace

void figure_fig2(const FigureOptions& opt) {
  Preset preset = preset_named(opt.preset);
  Lab lab(opt, preset);
  make_dirs(opt.out_dir);
  Corpus ptb = load_corpus("ptb");
  std::fprintf(stderr, "fig2: %zu models; CPU training budgets by size:", 2 * preset.sizes.size());
  for (int H : preset.sizes) std::fprintf(stderr, " %d units %s", H, preset.budget_for(H).str().c_str());
  std::fprintf(stderr, " (cached under %s)\n", opt.work_dir.c_str());
  // Decoder capacities swept on every model (see below); the signature of one, cached.
  std::vector<Capacity> caps = preset.name == "full"
                                   ? std::vector<Capacity>{{"linear", 0, 0}, {"1x64", 1, 64}, {"1x256", 1, 256}, {"1x1024", 1, 1024}, {"2x256", 2, 256}}
                                   : std::vector<Capacity>{{"linear", 0, 0}, {"1x64", 1, 64}};  // 1x64: the default, reused
  const int sweep_h = preset.name == "full" ? preset.sizes[preset.sizes.size() / 2] : 0;
  auto capacity_signature = [&](const CharLMConfig& cfg, const std::string& path, const Capacity& c) -> std::optional<Signature> {
    // The widest decoder (1x1024) and two layers only on the middle size, whose sweep the map shows:
    // on every model they would double the sweep's CPU time (figures/README.md).
    if (preset.name == "full" && (c.hidden == 1024 || c.depth == 2) && cfg.hidden != sweep_h) return std::nullopt;
    SignatureOptions so = lab.signature_options();
    // The default decoder's signature is the one probed for the main map: taken from the cache.
    const bool is_default = c.depth == so.probe.depth && c.hidden == so.probe.hidden;
    so.probe.depth = c.depth;
    so.probe.hidden = c.depth == 0 ? 64 : c.hidden;
    if (!is_default) so.perfect_memory_k = 0;
    return lab.signature(path, ptb, so, "ptb_" + config_tag(cfg) + (is_default ? "" : "_decoder_" + c.name));
  };
  // The entries: each model, its signature, and its decoder sweep (while its states are in memory).
  for (Cell cell : {Cell::GRU, Cell::LSTM}) {
    for (int H : preset.sizes) {
      CharLMConfig cfg;
      cfg.cell = cell; cfg.layers = 1; cfg.hidden = H; cfg.embed = preset.embed;
      std::string path = lab.model(ptb, cfg, preset.budget_for(cfg.hidden), "ptb");
      lab.signature(path, ptb, lab.signature_options(), "ptb_" + config_tag(cfg));
      for (auto& c : caps) capacity_signature(cfg, path, c);
    }
  }
  lab.declare_assembly("fig2");
  if (!lab.assembling()) return;

  std::vector<EntrySignature> cols;
  std::vector<std::string> names;
  nlohmann::json out = {{"models", nlohmann::json::array()}};
  std::map<std::string, std::vector<double>> ppl;
  std::map<std::string, std::vector<Estimate>> recall;
  for (Cell cell : {Cell::GRU, Cell::LSTM}) {
    for (int H : preset.sizes) {
      CharLMConfig cfg;
      cfg.cell = cell; cfg.layers = 1; cfg.hidden = H; cfg.embed = preset.embed;
      std::string path = lab.model(ptb, cfg, preset.budget_for(cfg.hidden), "ptb");
      EvalResult ev = evaluate(*load_model(path), ptb.test);
      Signature sig = lab.signature(path, ptb, lab.signature_options(), "ptb_" + config_tag(cfg));
      const EntrySignature& l = sig.trained.entries.at(0);
      Estimate m = mean_accuracy(l);
      char name[64];
      std::snprintf(name, sizeof name, "%s %d (ppl %.2f)", cell == Cell::GRU ? "GRU" : "LSTM", H, ev.perplexity);
      cols.push_back(l);
      names.push_back(name);
      ppl[cell_name(cell)].push_back(ev.perplexity);
      recall[cell_name(cell)].push_back(m);
      std::printf("fig2: %-5s %4d  test perplexity %.4f  mean accuracy over lags %s  by lag:", cell_name(cell), H, ev.perplexity,
                  m.str().c_str());
      for (auto& r : l.lags) std::printf(" %.3f", r.accuracy);
      std::printf("\n");
      out["models"].push_back({{"cell", cell_name(cell)}, {"hidden", H}, {"perplexity", ev.perplexity}, {"bpc", ev.bpc},
                               {"mean_accuracy", m.value}, {"mean_accuracy_se", m.se}, {"model", path}});
    }
  }
  marginal_heatmap(cols, names, "PTB, 1-layer LMs by state size: decoding accuracy by lag").save_png(opt.out_dir + "/fig2.png");

  LinePlot lp;
  lp.title = "PTB test perplexity by state size";
  lp.x_title = "state size (units)";
  lp.y_title = "perplexity";
  lp.log_x = true;
  for (auto& [cell, v] : ppl) {
    Series s{cell == "gru" ? "GRU" : "LSTM", {}, v};
    for (int H : preset.sizes) s.x.push_back(H);
    lp.series.push_back(s);
  }
  draw_lineplot(lp).save_png(opt.out_dir + "/fig2_perplexity.png");

  // The claims, measured.
  for (auto& [cell, v] : ppl) {
    double drop = (v.front() - v.back()) / v.front();
    Estimate gain = relative_change(recall[cell].front(), recall[cell].back());
    std::printf("fig2: %s: perplexity falls %.1f%% from %d to %d units; mean recall changes by %s (relative)\n", cell.c_str(),
                100 * drop, preset.sizes.front(), preset.sizes.back(), gain.str().c_str());
    out["claims"][cell] = {{"perplexity_drop", drop}, {"recall_relative_change", gain.value}, {"recall_relative_change_se", gain.se}};
  }
  for (size_t i = 0; i < preset.sizes.size(); ++i) {
    Estimate d = difference(recall["gru"][i], recall["lstm"][i]);
    std::printf("fig2: %d units: GRU minus LSTM mean recall %s\n", preset.sizes[i], d.str().c_str());
    out["claims"]["gru_minus_lstm"].push_back({{"hidden", preset.sizes[i]}, {"value", d.value}, {"se", d.se}});
  }

  write_text_atomically(opt.out_dir + "/fig2.json", out.dump(1) + "\n");  // again below, with the decoder sweep

  // Decoder capacity on every model: linear, 1x64 and 1x256 on all (1x1024 and 2x256 too on the
  // 320-unit ones), the best picked per model on valid (the paper's way), and how far the
  // signature moves with capacity.
  std::vector<EntrySignature> cap_cols, best_cols;
  std::vector<std::string> cap_names, best_names;
  std::map<std::string, std::vector<Estimate>> best_recall;
  for (Cell cell : {Cell::GRU, Cell::LSTM}) {
    for (int H : preset.sizes) {
      CharLMConfig cfg;
      cfg.cell = cell; cfg.layers = 1; cfg.hidden = H; cfg.embed = preset.embed;
      std::string path = lab.model(ptb, cfg, preset.budget_for(cfg.hidden), "ptb");
      double best_valid = -1, lo = 1, hi = 0;
      std::string best;
      EntrySignature best_layer;
      for (auto& c : caps) {
        std::optional<Signature> sig = capacity_signature(cfg, path, c);
        if (!sig) continue;
        const EntrySignature& l = sig->trained.entries.at(0);
        double v = mean_valid(l), m = mean_accuracy(l).value;
        lo = std::min(lo, m);
        hi = std::max(hi, m);
        if (v > best_valid) { best_valid = v; best = c.name; best_layer = l; }
        if (!sweep_h || H == sweep_h) {  // the map shows one size's sweep (every size's in the quick preset)
          cap_cols.push_back(l);
          cap_names.push_back(std::string(cell == Cell::GRU ? "GRU " : "LSTM ") + std::to_string(H) + " " + c.name);
        }
        std::printf("fig2: %s %d, decoder %-6s: mean valid accuracy %.4f, mean test accuracy %s\n", cell_name(cell), H, c.name.c_str(), v,
                    mean_accuracy(l).str().c_str());
        out["decoders"].push_back({{"cell", cell_name(cell)}, {"hidden", H}, {"decoder", c.name}, {"mean_valid", v}, {"mean_test", m}});
      }
      std::printf("fig2: %s %d: best decoder on valid %s; mean test accuracy spans %.3f..%.3f across capacities (%.3f)\n",
                  cell_name(cell), H, best.c_str(), lo, hi, hi - lo);
      out["decoder_choice"].push_back({{"cell", cell_name(cell)}, {"hidden", H}, {"best", best}, {"span", hi - lo},
                                       {"mean_test_best", mean_accuracy(best_layer).value}, {"mean_test_best_se", mean_accuracy(best_layer).se}});
      best_cols.push_back(best_layer);
      best_names.push_back(std::string(cell == Cell::GRU ? "GRU " : "LSTM ") + std::to_string(H) + " (" + best + ")");
      best_recall[cell_name(cell)].push_back(mean_accuracy(best_layer));
    }
  }
  marginal_heatmap(cap_cols, cap_names,
                   sweep_h ? "PTB, " + std::to_string(sweep_h) + " units: accuracy by lag for five decoder capacities"
                           : std::string("PTB: accuracy by lag for each decoder capacity"))
      .save_png(opt.out_dir + "/fig2_decoders.png");
  marginal_heatmap(best_cols, best_names, "PTB, 1-layer LMs by state size, each with its best decoder on valid")
      .save_png(opt.out_dir + "/fig2_best_decoder.png");
  for (auto& [cell, v] : best_recall) {
    Estimate gain = relative_change(v.front(), v.back());
    std::printf("fig2: %s, best decoders: mean recall changes by %s (relative) from %d to %d units\n", cell.c_str(), gain.str().c_str(),
                preset.sizes.front(), preset.sizes.back());
    out["claims_best_decoder"][cell] = {{"recall_relative_change", gain.value}, {"recall_relative_change_se", gain.se}};
  }
  for (size_t i = 0; i < preset.sizes.size(); ++i) {
    Estimate d = difference(best_recall["gru"][i], best_recall["lstm"][i]);
    std::printf("fig2: %d units, best decoders: GRU minus LSTM mean recall %s\n", preset.sizes[i], d.str().c_str());
    out["claims_best_decoder"]["gru_minus_lstm"].push_back({{"hidden", preset.sizes[i]}, {"value", d.value}, {"se", d.se}});
  }
  write_text_atomically(opt.out_dir + "/fig2.json", out.dump(1) + "\n");
  std::printf("fig2: wrote %s/fig2.png, fig2_perplexity.png, fig2_decoders.png, fig2_best_decoder.png, fig2.json\n", opt.out_dir.c_str());
}

}  // namespace memsig
