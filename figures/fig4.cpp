// fig4.cpp — Figure 4: domain adaptation. An LSTM trained on Shakespeare and evaluated on PTB; the
// same LSTM retrained on 5% of PTB; an LSTM trained on PTB only: their signatures on PTB side by
// side, their PTB test perplexities, and how far the retrained signature sits from each of the
// others. Then the retraining fraction swept (0.5% .. 100% of PTB).
#include <cmath>
#include <cstdio>

#include "engine/files.h"
#include "figures/figures.h"
#include "figures/recipes.h"
#include "figures/render/lineplot.h"
#include "figures/signature_plots.h"
#include "models/model_file.h"

namespace memsig {

namespace {

// The first `percent` % of PTB's training sentences (valid and test whole).
Corpus ptb_fraction(const Corpus& ptb, double percent) {
  Corpus c = ptb;
  c.train.resize(std::max<size_t>(1, (size_t)std::ceil(ptb.train.size() * percent / 100.0)));
  char name[32];
  std::snprintf(name, sizeof name, "ptb%g%%", percent);
  c.name = name;
  return c;
}

std::string pct_tag(double percent) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%gpct", percent);
  return buf;
}

}  // namespace

void figure_fig4(const FigureOptions& opt) {
  Preset preset = preset_named(opt.preset);
  Lab lab(opt, preset);
  make_dirs(opt.out_dir);
  Corpus ptb = load_corpus("ptb"), shakespeare = load_corpus("shakespeare");
  CharLMConfig cfg;
  cfg.cell = Cell::LSTM; cfg.layers = 1; cfg.embed = preset.embed;
  cfg.hidden = preset.name == "full" ? 320 : preset.sizes.back();
  std::fprintf(stderr, "fig4: %s for each of two LMs, then %zu retrainings of %s\n", preset.budget_for(cfg.hidden).str().c_str(),
               preset.fractions.size() + 1, preset.budget_retrain().str().c_str());
  std::string shake = lab.model(shakespeare, cfg, preset.budget_for(cfg.hidden), "shakespeare");
  std::string target = lab.model(ptb, cfg, preset.budget_for(cfg.hidden), "ptb");  // Figure 2's LSTM of this size
  auto retrained = [&](double percent) {
    return lab.model(ptb_fraction(ptb, percent), cfg, preset.budget_retrain(), "ptb" + pct_tag(percent) + "_from_shakespeare", shake);
  };
  std::string adapted = retrained(5);

  SignatureOptions so = lab.signature_options();
  so.perfect_memory_k = 0;
  auto tag_of = [&](const std::string& path) { return "ptb_" + config_tag(cfg) + "_" + std::filesystem::path(path).stem().string(); };
  // The entries: the three models and their signatures, then each fraction's retraining and signature.
  for (auto* p : {&shake, &adapted, &target}) lab.signature(*p, ptb, so, tag_of(*p));
  for (double f : preset.fractions) lab.signature(retrained(f), ptb, so, tag_of(retrained(f)));
  lab.declare_assembly("fig4");
  if (!lab.assembling()) return;

  struct Model { std::string name, path; EvalResult ev; Signature sig; };
  std::vector<Model> three = {{"trained on Shakespeare", shake, {}, {}},
                              {"retrained on 5% of PTB", adapted, {}, {}},
                              {"trained on PTB", target, {}, {}}};
  std::vector<Canvas> panels;
  std::vector<int> cols;
  for (int s = symbol_of_char('a'); s <= symbol_of_char('z'); ++s) cols.push_back(s);
  cols.push_back(symbol_of_char('.'));
  for (auto& m : three) {
    m.ev = evaluate(*load_model(m.path), ptb.test);
    m.sig = lab.signature(m.path, ptb, so, tag_of(m.path));
    char title[160];
    std::snprintf(title, sizeof title, "LSTM 1x%d %s: signature on PTB (PTB test perplexity %.3f)", cfg.hidden, m.name.c_str(),
                  m.ev.perplexity);
    panels.push_back(signature_heatmap(m.sig.trained.entries.at(0), title, cols, 70));
    std::printf("fig4: %-24s PTB test perplexity %.4f\n", m.name.c_str(), m.ev.perplexity);
  }
  stack_panels(panels).save_png(opt.out_dir + "/fig4.png");
  nlohmann::json out;
  auto dist = [](const Signature& a, const Signature& b) { return diff_signatures(a, b).at(0); };
  EntryDiff to_shake = dist(three[1].sig, three[0].sig), to_target = dist(three[1].sig, three[2].sig),
            between = dist(three[0].sig, three[2].sig);
  std::printf("fig4: distance (mean |recall difference| over symbols and lags; RMS of accuracy by lag):\n");
  std::printf("fig4:   retrained - Shakespeare LM  %.4f  %.4f\n", to_shake.mean_abs, to_shake.marginal_rms);
  std::printf("fig4:   retrained - PTB LM          %.4f  %.4f\n", to_target.mean_abs, to_target.marginal_rms);
  std::printf("fig4:   Shakespeare LM - PTB LM     %.4f  %.4f\n", between.mean_abs, between.marginal_rms);
  for (auto& m : three) out["models"].push_back({{"name", m.name}, {"perplexity", m.ev.perplexity}, {"model", m.path}});
  out["distance"] = {{"retrained_to_shakespeare", to_shake.mean_abs}, {"retrained_to_ptb", to_target.mean_abs},
                     {"shakespeare_to_ptb", between.mean_abs}};

  // The retraining fraction swept.
  LinePlot pp, dp;
  pp.title = "Retraining the Shakespeare LSTM on a fraction of PTB: PTB test perplexity";
  pp.x_title = "% of PTB's training text";
  pp.y_title = "perplexity";
  pp.log_x = dp.log_x = true;
  dp.title = "Distance of the retrained signature (mean |recall difference|)";
  dp.x_title = pp.x_title;
  dp.y_title = "distance";
  Series ppl{"retrained", {}, {}}, ptb_only{"PTB only (100%, from scratch)", {}, {}, true};
  Series d_target{"to the PTB LM", {}, {}}, d_shake{"to the Shakespeare LM", {}, {}};
  for (double f : preset.fractions) {
    std::string path = retrained(f);
    EvalResult ev = evaluate(*load_model(path), ptb.test);
    Signature sig = lab.signature(path, ptb, so, tag_of(path));
    double dt = dist(sig, three[2].sig).mean_abs, ds = dist(sig, three[0].sig).mean_abs;
    ppl.x.push_back(f); ppl.y.push_back(ev.perplexity);
    ptb_only.x.push_back(f); ptb_only.y.push_back(three[2].ev.perplexity);
    d_target.x.push_back(f); d_target.y.push_back(dt);
    d_shake.x.push_back(f); d_shake.y.push_back(ds);
    std::printf("fig4: retrained on %5g%% of PTB: perplexity %.4f, distance to the PTB LM %.4f, to the Shakespeare LM %.4f\n", f,
                ev.perplexity, dt, ds);
    out["sweep"].push_back({{"percent", f}, {"perplexity", ev.perplexity}, {"to_ptb", dt}, {"to_shakespeare", ds}});
  }
  pp.series = {ppl, ptb_only};
  dp.series = {d_target, d_shake};
  stack_panels({draw_lineplot(pp), draw_lineplot(dp)}).save_png(opt.out_dir + "/fig4_sweep.png");
  write_text_atomically(opt.out_dir + "/fig4.json", out.dump(1) + "\n");
  std::printf("fig4: wrote %s/fig4.png, fig4_sweep.png, fig4.json\n", opt.out_dir.c_str());
}

}  // namespace memsig
