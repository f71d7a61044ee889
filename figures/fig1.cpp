// fig1.cpp — Figure 1: what a 1-layer GRU LM on Tiny Shakespeare remembers, and what it predicts.
#include <chrono>
#include <cmath>
#include <cstdio>

#include "engine/files.h"
#include "figures/figures.h"
#include "figures/recipes.h"
#include "figures/signature_plots.h"
#include "models/model_file.h"
#include "models/train_charlm.h"
#include "probe/charlm_source.h"

namespace memsig {

namespace {

// Pearson correlation over the pairs where both are numbers.
double correlation(const std::vector<double>& x, const std::vector<double>& y) {
  double n = 0, sx = 0, sy = 0, sxx = 0, syy = 0, sxy = 0;
  for (size_t i = 0; i < x.size(); ++i) {
    if (std::isnan(x[i]) || std::isnan(y[i])) continue;
    n += 1; sx += x[i]; sy += y[i]; sxx += x[i] * x[i]; syy += y[i] * y[i]; sxy += x[i] * y[i];
  }
  double cov = sxy / n - sx / n * sy / n, vx = sxx / n - sx / n * sx / n, vy = syy / n - sy / n * sy / n;
  return cov / std::sqrt(vx * vy);
}

}  // namespace

void figure_fig1(const FigureOptions& opt) {
  auto t0 = std::chrono::steady_clock::now();
  std::string dir = opt.work_dir + "/fig1";
  make_dirs(dir);
  make_dirs(opt.out_dir);
  std::string model_path = opt.model.empty() ? dir + "/gru320.safetensors" : opt.model;
  Corpus corpus = load_corpus("shakespeare");
  // A model the user names and that memsig did not begin training is used as it is; otherwise the
  // recipe trains it (CPU-time budget), resumes a stopped training, and marks it done at the end.
  bool users_own = !opt.model.empty() && file_exists(model_path) && !file_exists(model_path + ".training") &&
                   !file_exists(model_path + ".done");
  Lab lab(opt, preset_named("full"));
  if (!users_own) {
    CharLMConfig cfg;
    cfg.cell = Cell::GRU; cfg.layers = 1; cfg.hidden = 320; cfg.embed = 32;
    lab.model(corpus, cfg, Budget{opt.train_minutes, 0}, "shakespeare", "", model_path);
  }
  lab.declare_assembly("fig1");  // the signature is computed by the assembling job itself
  if (!lab.assembling()) return;
  std::shared_ptr<const CharLM> model = load_model(model_path);
  EvalResult ev = evaluate(*model, corpus.test);

  SignatureOptions so;
  so.states.max_lag = 10;
  so.states.seed = opt.seed;
  so.max_train_positions = opt.max_train_positions;
  so.quiet = opt.quiet;
  so.probe.seed = opt.seed;
  Signature sig = compute_signature(CharLMSource(model), corpus, so);
  write_signature_files(sig, dir, "1x320 GRU, Tiny Shakespeare");

  // Columns a-z and '.', as in the paper.
  std::vector<int> cols;
  for (int s = symbol_of_char('a'); s <= symbol_of_char('z'); ++s) cols.push_back(s);
  cols.push_back(symbol_of_char('.'));
  const EntrySignature& layer = sig.trained.entries.at(0);
  const ForwardAccuracy& forward = sig.trained.forward.value();
  const int left = 70;  // the same left margin in both panels lines their columns up
  Canvas a = signature_heatmap(layer, "Memory signature: recall of the input d steps back, from the GRU state h", cols,
                               left);
  Heatmap fwd;
  fwd.title = "Forward prediction: recall of the next symbol by the LM itself";
  fwd.x_title = "symbol";
  fwd.colorbar_title = "";
  fwd.rows = {"next"};
  fwd.cell_h = 30;
  fwd.min_left = left;
  fwd.annotate = true;
  for (int s : cols) {
    fwd.cols.push_back(symbol_label(s));
    fwd.values.push_back(forward.recall[s]);
  }
  Canvas b = draw_heatmap(fwd);
  stack_panels({a, b}).save_png(opt.out_dir + "/fig1.png");

  // The numbers: marginal accuracy by d, and memory vs predictability per symbol.
  std::printf("fig1: model %s, test bpc %.4f (perplexity %.3f)\n", model_path.c_str(), ev.bpc, ev.perplexity);
  std::printf("fig1: marginal recall by d (test, 95%% CI, chance):\n");
  for (auto& r : layer.lags)
    std::printf("  d=%-2d %.3f [%.3f, %.3f]  chance %.3f\n", r.lag, r.accuracy, r.ci_lo, r.ci_hi, r.chance);
  std::vector<double> memory, predict;
  for (int s : cols) {
    double sum = 0, n = 0;
    for (auto& r : layer.lags) if (!std::isnan(r.recall[s])) { sum += r.recall[s]; n += 1; }
    memory.push_back(n ? sum / n : NAN);
    predict.push_back(forward.recall[s]);
  }
  std::printf("fig1: forward prediction accuracy %.3f; correlation over a-z and '.' between mean recall (d=1..10)"
              " and forward recall: r = %.3f\n", forward.accuracy, correlation(memory, predict));
  std::printf("fig1: wrote %s/fig1.png and %s/signature.json in %.0f s\n", opt.out_dir.c_str(), dir.c_str(),
              std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
}

}  // namespace memsig
