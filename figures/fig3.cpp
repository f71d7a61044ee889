// fig3.cpp — Figure 3: depth. 4-layer, 320-unit GRU and LSTM LMs on PTB: marginal recall per layer;
// and decoders twice as deep on layers 3-4 (does more decoder capacity find more memory there?).
#include <cstdio>

#include "engine/files.h"
#include "figures/claims.h"
#include "figures/figures.h"
#include "figures/recipes.h"
#include "figures/signature_plots.h"
#include "models/model_file.h"

namespace memsig {

void figure_fig3(const FigureOptions& opt) {
  Preset preset = preset_named(opt.preset);
  Lab lab(opt, preset);
  make_dirs(opt.out_dir);
  Corpus ptb = load_corpus("ptb");
  std::fprintf(stderr, "fig3: 2 models of %d layers, %s of training each\n", preset.deep_layers, preset.budget_deep().str().c_str());
  auto config = [&](Cell cell) {
    CharLMConfig cfg;
    cfg.cell = cell; cfg.layers = preset.deep_layers; cfg.hidden = preset.deep_hidden; cfg.embed = preset.embed;
    return cfg;
  };
  // Decoders with twice the hidden layers on the top two layers.
  auto deep_options = [&](const CharLMConfig& cfg) {
    SignatureOptions deep = lab.signature_options();
    deep.probe.depth = 2;
    deep.perfect_memory_k = 0;
    for (int l = std::max(0, cfg.layers - 2); l < cfg.layers; ++l) deep.states.entries.push_back(l);
    return deep;
  };
  // The entries: each model, its signature, the deeper decoders' signature.
  for (Cell cell : {Cell::GRU, Cell::LSTM}) {
    CharLMConfig cfg = config(cell);
    std::string path = lab.model(ptb, cfg, preset.budget_deep(), "ptb");
    lab.signature(path, ptb, lab.signature_options(), "ptb_" + config_tag(cfg));
    lab.signature(path, ptb, deep_options(cfg), "ptb_" + config_tag(cfg) + "_decoder_depth2_top");
  }
  lab.declare_assembly("fig3");
  if (!lab.assembling()) return;

  std::vector<EntrySignature> cols;
  std::vector<std::string> names;
  nlohmann::json out;
  for (Cell cell : {Cell::GRU, Cell::LSTM}) {
    CharLMConfig cfg = config(cell);
    std::string path = lab.model(ptb, cfg, preset.budget_deep(), "ptb");
    EvalResult ev = evaluate(*load_model(path), ptb.test);
    Signature sig = lab.signature(path, ptb, lab.signature_options(), "ptb_" + config_tag(cfg));
    const std::string label = cell == Cell::GRU ? "GRU" : "LSTM";
    for (size_t i = 0; i < sig.trained.entries.size() || i < (size_t)cfg.layers; ++i)  // every layer, in order
      if (i >= sig.trained.entries.size() || sig.trained.entries[i].entry != (int)i + 1)
        throw std::logic_error("fig3: the signature of " + path + " lacks layer " + std::to_string(i + 1));
    std::printf("fig3: %s %dx%d test perplexity %.4f\n", label.c_str(), cfg.layers, cfg.hidden, ev.perplexity);
    std::vector<Estimate> by_layer;
    for (auto& l : sig.trained.entries) {
      cols.push_back(l);
      names.push_back(label + " layer " + std::to_string(l.entry));
      by_layer.push_back(mean_accuracy(l));
      std::printf("fig3: %s layer %d: mean accuracy over lags %s  by lag:", label.c_str(), l.entry, by_layer.back().str().c_str());
      for (auto& r : l.lags) std::printf(" %.3f", r.accuracy);
      std::printf("\n");
      out[cell_name(cell)]["layers"].push_back({{"layer", l.entry}, {"mean_accuracy", by_layer.back().value}, {"se", by_layer.back().se}});
    }
    out[cell_name(cell)]["perplexity"] = ev.perplexity;
    Estimate fall = difference(by_layer.back(), by_layer.front());
    std::printf("fig3: %s: last layer minus first, mean recall %s\n", label.c_str(), fall.str().c_str());
    out[cell_name(cell)]["last_minus_first"] = {{"value", fall.value}, {"se", fall.se}};

    Signature sd = lab.signature(path, ptb, deep_options(cfg), "ptb_" + config_tag(cfg) + "_decoder_depth2_top");
    for (auto& l : sd.trained.entries) {
      if (l.entry < 1 || l.entry > (int)by_layer.size()) throw std::logic_error("fig3: no layer " + std::to_string(l.entry));
      Estimate one = by_layer[l.entry - 1], two = mean_accuracy(l);
      Estimate gain = relative_change(one, two);
      std::printf("fig3: %s layer %d: decoders of 2 hidden layers %s vs 1: relative gain %s\n", label.c_str(), l.entry,
                  two.str().c_str(), gain.str().c_str());
      out[cell_name(cell)]["deeper_decoders"].push_back({{"layer", l.entry}, {"relative_gain", gain.value}, {"se", gain.se}});
    }
  }
  marginal_heatmap(cols, names, "PTB, " + std::to_string(preset.deep_layers) + "-layer LMs: decoding accuracy by lag, per layer")
      .save_png(opt.out_dir + "/fig3.png");
  write_text_atomically(opt.out_dir + "/fig3.json", out.dump(1) + "\n");
  std::printf("fig3: wrote %s/fig3.png, fig3.json\n", opt.out_dir.c_str());
}

}  // namespace memsig
