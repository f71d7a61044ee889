// figures.h — experiment recipes that reproduce the paper's figures from a clean clone.
#pragma once
#include <string>

namespace memsig {

struct Plan;

struct FigureOptions {
  std::string preset = "full"; // quick | full (figures 2-5: sizes, time budgets, positions)
  std::string model;           // reuse this model; trained here when the file is missing
  std::string data;            // fig7: a speech set (train/, valid/, test/); synthesized when empty
  std::string out_dir = "figures";
  std::string work_dir = "runs/figures";
  double train_minutes = 10;   // when training
  uint64_t seed = 1;
  int64_t max_train_positions = 200000;
  bool quiet = false;
  int check_ablation = 0;      // fig6: also retrain decoders per ablated model for the named bases + this many top bases
  // Job plans (figures/plan.h). With `plan` set, a recipe declares its cache entries as jobs and
  // computes nothing; with `entry` set, it computes that one entry and throws EntryDone.
  std::string figure;            // the recipe being run: "fig2"
  Plan* plan = nullptr;
  std::string entry;
};

// Thrown when the one entry a job was asked for (FigureOptions::entry) is in the cache.
struct EntryDone {
  std::string id;
};

// Figure 1: a 1-layer GRU (320 units) on Tiny Shakespeare. (a) memory signature over a-z and '.',
// (b) forward prediction accuracy per symbol. Writes OUT/fig1.png and WORK/fig1/signature.*;
// prints the numbers the README quotes.
void figure_fig1(const FigureOptions& opt);

// Figure 2: 1-layer GRU and LSTM LMs of state sizes 80..640 on PTB: marginal recall by lag (a
// column per model), test perplexities, and how the signature moves with decoder capacity.
void figure_fig2(const FigureOptions& opt);
// Figure 3: 4-layer GRU and LSTM (320 units) on PTB: marginal recall per layer; deeper decoders
// on layers 3-4.
void figure_fig3(const FigureOptions& opt);
// Figure 4: domain adaptation: an LSTM trained on Shakespeare, the same retrained on 5% of PTB,
// an LSTM trained on PTB; signatures, PTB perplexities, distances; and the retraining fraction swept.
void figure_fig4(const FigureOptions& opt);
// Figure 5: a 1-layer GRU minus a character 5-gram on PTB, per symbol; both perplexities; their
// interpolation.
void figure_fig5(const FigureOptions& opt);
// Figure 7: a LAS model on (synthesized) read speech: the first and last listener layers' and the
// speller query's signatures, the test CER, and the paper's two LAS claims measured (fig7.cpp).
void figure_fig7(const FigureOptions& opt);

// Figure 6: a bigram-factorized LSTM on Tiny Shakespeare + PTB: signatures of its base kernel and
// of single bases, every basis's ablation read by decoders trained once, the permutation test of
// "a basis remembers its own bigram", and pruning by memory (figures/fig6.cpp).
void figure_fig6(const FigureOptions& opt);

}  // namespace memsig
