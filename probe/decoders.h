// decoders.h — the memory probe: for one entry of a state source (a layer), L small ReLU MLPs,
// the d-th predicting the input x_{t-d} (the symbol d positions back) from the frozen state s_t:
//     a_d = relu(W1_d s + b1_d)   [more hidden layers: a = relu(W a + b)]   logits_d = W2_d a_d + b2_d
// All L decoders read the same s, so their first layers are stacked into one matrix W1 [L*K, H]:
// one GEMM per mini-batch computes every decoder's first layer, and one backward GEMM every
// dW1. The loss is the sum over d of the masked cross-entropies (targets before the segment start
// are masked out). States are standardised with the training split's mean and deviation.
//
// The default decoders (one hidden layer, no dropout) train through a fused bank: the forward and
// backward written out by hand on buffers laid out decoder-major and transposed (Z^T = W1 X^T is
// [L*K, B], so decoder d's block of rows is contiguous and its second layer is one small GEMM
// without copies), the softmax computed down the columns (vectorised across the batch), and one
// Adam loop over four flat arrays. Same initial weights, same shuffles, same protocol as the
// autograd bank; only the order of some float sums differs.
//
// Training: Adam on train; after every epoch each decoder's accuracy on valid is measured and the
// best weights of each decoder are kept; a decoder stops after `patience` epochs without
// improving (early stopping per decoder), and leaves the bank's products. With
// a dropout sweep, the whole bank is trained once per keep probability and, per decoder, the keep
// probability that did best on valid is chosen. Reported numbers are on test.
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "probe/states.h"

namespace memsig {

struct ProbeOptions {
  int hidden = 64;             // K, units per decoder hidden layer
  int depth = 1;               // hidden layers per decoder; 0 = a linear decoder (softmax of W s + b)
  float keep_prob = 1.0f;      // dropout keep probability on hidden units
  bool sweep_dropout = false;  // try keep 0.5, 0.6, ..., 1.0 and pick per decoder on valid
  float lr = 2e-3f;
  int batch = 256;
  int max_epochs = 20;
  int patience = 3;
  int bootstrap = 1000;        // resamples for the 95% interval
  uint64_t seed = 1;
  bool quiet = false;
  // Train through the engine's autograd (ops and Adam per tensor) instead of the fused bank below:
  // the reference the fused bank is tested against. Deeper decoders and dropout always take it.
  bool autograd_bank = false;
  // Early stopping: each decoder stops after `patience` epochs without improving its own valid
  // accuracy, and the bank when every decoder has stopped (PyTorch's one-by-one pipeline does the
  // same). stop_together: the earlier protocol, every decoder trains on until no decoder has
  // improved for `patience` epochs (each still keeps its own best weights).
  bool stop_together = false;
};

struct LagResult {
  int lag = 0;
  double accuracy = 0, ci_lo = 0, ci_hi = 0, chance = 0;
  int64_t n = 0;                        // test positions with a target at this lag
  std::vector<double> recall;           // [34], NaN where count is 0
  std::vector<int64_t> count;           // [34] targets per symbol
  std::vector<int64_t> confusion;       // [34*34], row = true symbol, column = predicted
  float keep_prob = 1.0f;               // chosen on valid
  double valid_accuracy = 0;
  int epochs = 0;                       // epochs until the best valid accuracy
  std::vector<int8_t> test_predictions; // the decoder's answer at every test row (for paired comparisons)
};

// std::invalid_argument naming the option when a setting cannot work (patience < 1, ...).
void check_probe_options(const ProbeOptions& opt);

// Decoders once trained, with the standardisation of their training states: they can be asked
// about other states of the same width, e.g. those of a model with one part switched off
// (Figure 6's ablations: one training, then one evaluation per ablated part).
class TrainedDecoders {
 public:
  // The lag-d decoder's argmax answer (d = 1..L) at every row of `set`'s entry `entry`: [L][set.n].
  std::vector<std::vector<int8_t>> predict(const StateSet& set, size_t entry) const;
  struct Impl;
  std::shared_ptr<const Impl> impl;
};

// Trains the L decoders (lags 1..L) of one state set entry (a layer) jointly and reports on test;
// `keep`, when given, receives the chosen decoders.
std::vector<LagResult> probe_entry(const StateSet& train, const StateSet& valid, const StateSet& test, size_t entry,
                                   const ProbeOptions& opt, TrainedDecoders* keep = nullptr);

// The same decoders trained one after another (L separate banks of one), or only lag `only_lag`:
// the reference the joint probe is measured against in `make bench`. Returns valid accuracies.
std::vector<double> probe_entry_one_by_one(const StateSet& train, const StateSet& valid, size_t entry,
                                           const ProbeOptions& opt, int only_lag = 0);

}  // namespace memsig
