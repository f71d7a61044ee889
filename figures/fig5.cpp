// fig5.cpp — Figure 5: where a 1-layer GRU and a character 5-gram, both trained on PTB (our WSJ
// text), remember different symbols; their perplexities; and whether mixing them helps.
#include <cstdio>

#include "engine/files.h"
#include "figures/claims.h"
#include "figures/figures.h"
#include "figures/recipes.h"
#include "figures/signature_plots.h"
#include "models/any_model.h"
#include "models/arpa.h"
#include "models/interpolate.h"

namespace memsig {

void figure_fig5(const FigureOptions& opt) {
  Preset preset = preset_named(opt.preset);
  Lab lab(opt, preset);
  make_dirs(opt.out_dir);
  Corpus ptb = load_corpus("ptb");
  CharLMConfig cfg;
  cfg.cell = Cell::GRU; cfg.layers = 1; cfg.embed = preset.embed;
  cfg.hidden = preset.name == "full" ? 320 : preset.sizes.back();
  const std::string gru = lab.model(ptb, cfg, preset.budget_for(cfg.hidden), "ptb");  // the same model Figure 2 trains
  // Keyed by the training text's content and the order (the n-gram is a deterministic function of both).
  const std::string ngram = lab.path("models/ptb_" + std::to_string(preset.ngram_order) + "gram_" +
                                     key_hash({{"corpus_digest", segments_digest(ptb.train)}, {"order", preset.ngram_order}}) + ".arpa");
  if (!opt.plan && !file_exists(ngram)) {  // built by whichever process needs it first (0.5 s; written atomically)
    NgramLM lm;
    lm.train(ptb.train, preset.ngram_order);
    make_dirs(lab.path("models"));
    write_arpa(ngram, lm);
  }
  SignatureOptions so = lab.signature_options();
  const std::string gtag = "ptb_" + config_tag(cfg), ntag = "ptb_" + std::to_string(preset.ngram_order) + "gram";
  lab.signature(gru, ptb, so, gtag, /*need_rows=*/true);
  lab.signature(ngram, ptb, so, ntag, /*need_rows=*/true);
  lab.declare_assembly("fig5");
  if (!lab.assembling()) return;

  AnyModel g = load_any_model(gru), n = load_any_model(ngram);
  EvalResult eg = evaluate(*g.lm, ptb.test), en = evaluate(*n.lm, ptb.test);
  Signature sg = lab.signature(gru, ptb, so, gtag, /*need_rows=*/true);
  Signature sn = lab.signature(ngram, ptb, so, ntag, /*need_rows=*/true);
  auto diffs = diff_signatures(sn, sg, 1000, opt.seed);  // B - A = GRU - n-gram, paired bootstrap over the same positions
  char title[256];
  std::snprintf(title, sizeof title, "Recall of a 1x%d GRU (PTB test ppl %.3f) minus a %d-gram's (ppl %.3f); red: the GRU recalls more",
                cfg.hidden, eg.perplexity, preset.ngram_order, en.perplexity);
  diff_heatmap(diffs, title, "recall GRU - " + std::to_string(preset.ngram_order) + "-gram").save_png(opt.out_dir + "/fig5.png");
  const std::string gname = "GRU 1x" + std::to_string(cfg.hidden), nname = std::to_string(preset.ngram_order) + "-gram";
  marginal_heatmap({sg.trained.entries[0], sn.trained.entries[0]}, {gname, nname}, "PTB: accuracy by lag",
                   sg.perfect ? &*sg.perfect : nullptr)
      .save_png(opt.out_dir + "/fig5_marginal.png");
  Interpolation ip = interpolate(*g.lm, *n.lm, ptb.valid, ptb.test);

  Estimate mg = mean_accuracy(sg.trained.entries[0]), mn = mean_accuracy(sn.trained.entries[0]);
  std::printf("fig5: %s test perplexity %.4f (%.4f bpc); %s %.4f (%.4f bpc); %lld targets\n", gname.c_str(), eg.perplexity, eg.bpc,
              nname.c_str(), en.perplexity, en.bpc, (long long)eg.targets);
  std::printf("fig5: interpolation %.2f x GRU + %.2f x n-gram (weight chosen on valid): test perplexity %.4f (%.4f bpc)\n",
              ip.weight, 1 - ip.weight, ip.mixed.perplexity, ip.mixed.bpc);
  std::printf("fig5: mean accuracy over lags 1..%d: GRU %s, n-gram %s; mean |recall GRU - n-gram| %.3f\n", preset.max_lag,
              mg.str().c_str(), mn.str().c_str(), diffs[0].mean_abs);
  if (diffs[0].paired) {
    int sig = 0, cells = 0;
    for (size_t c = 0; c < diffs[0].significant.size(); ++c)
      if (!std::isnan(diffs[0].recall_diff[c])) { cells++; sig += diffs[0].significant[c]; }
    std::printf("fig5: %d of %d symbol x lag cells differ significantly (paired bootstrap, 95%%)\n", sig, cells);
  }
  std::printf("fig5: by lag (GRU / n-gram):");
  for (size_t i = 0; i < sg.trained.entries[0].lags.size(); ++i)
    std::printf(" %.3f/%.3f", sg.trained.entries[0].lags[i].accuracy, sn.trained.entries[0].lags[i].accuracy);
  std::printf("\n");
  nlohmann::json j = {{"gru", gru}, {"ngram", ngram}, {"gru_perplexity", eg.perplexity}, {"ngram_perplexity", en.perplexity},
                      {"interpolation_weight", ip.weight}, {"interpolated_perplexity", ip.mixed.perplexity},
                      {"gru_mean_accuracy", mg.value}, {"ngram_mean_accuracy", mn.value}, {"mean_abs_recall_diff", diffs[0].mean_abs}};
  write_text_atomically(opt.out_dir + "/fig5.json", j.dump(1) + "\n");
  std::printf("fig5: wrote %s/fig5.png, fig5_marginal.png, fig5.json\n", opt.out_dir.c_str());
}

}  // namespace memsig
