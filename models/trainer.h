// trainer.h — the training loop every model kind shares: epochs of shuffled mini-batches, one
// train_step each (forward, loss, backward, clip, update), a progress line (targets/s, loss in bits,
// ETA), validation at each epoch's end (and every N steps), the best model on validation kept at
// `out`, an atomic checkpoint at `out`.ckpt every minute that --resume continues from exactly, a
// learning curve, a time budget, and a guard that stops on a non-finite loss or gradient or a
// diverged model, keeping the last good checkpoint.
//
// A model kind plugs in through a TrainTask: its parameters, how many batches an epoch has,
// the loss of batch i, and its validation bits per target.
#pragma once
#include <cstdint>
#include <string>

#include "engine/ops.h"
#include "engine/rng.h"
#include "models/checkpoint.h"
#include "models/trainable.h"

namespace memsig {

struct LoopOptions {
  int epochs = 10;
  float lr = 2e-3f;
  std::string optimizer = "adam";  // adam | sgd
  float momentum = 0.9f;
  float clip = 5.0f;
  uint64_t seed = 1;
  std::string out = "model.safetensors";
  bool resume = false;
  bool allow_lr_change = false;    // a resumed run may change --lr
  double max_minutes = 0;          // stop after this much training time (0 = no limit)
  bool cpu_clock = false;          // count max_minutes (and the recorded seconds) in CPU time per thread
  int64_t max_steps = 0;           // stop after this many steps (0 = no limit): the same model on any machine
  int eval_every = 0;              // validate every N steps as well as at each epoch's end (0 = epochs only)
  std::string log_csv;             // learning curve: seconds, epoch, step, then the TrainMetric's curve columns
  double progress_seconds = 10;
  int checkpoint_seconds = 60;
  bool quiet = false;
};

// What a task's numbers mean, for the progress lines and the divergence guard. The defaults are
// the char LM's: a rate in chars/s, the training loss in bits per char, validation in bpc (with its
// perplexity), diverged above 20 bpc.
struct TrainMetric {
  std::string targets = "chars";      // what the rate counts (the targets of the loss)
  std::string loss_unit = "bpc";      // the training loss, in bits per target
  std::string valid_name = "bpc";     // what validate() returns (lower is better)
  bool valid_is_bits = true;          // print the perplexity 2^valid beside it
  double diverged_loss = 20;          // training loss (bits per target, over 20 steps) above this: diverged
  double diverged_valid = 20;         // validation above this: diverged (infinity: no bound)
  std::string uniform_hint = "a uniform guess gives 5.04";
  // The learning curve's column names (CSV): the rate's targets, the training loss, the validation
  // metric; a valid_ppl column follows when valid_is_bits.
  std::string curve_targets = "chars", curve_loss = "train_bpc", curve_valid = "valid_bpc";
};

class TrainTask {
 public:
  virtual TrainMetric metric() const { return {}; }
  virtual ~TrainTask() = default;
  virtual Trainable& model() = 0;
  virtual int batches_per_epoch() const = 0;
  virtual int64_t targets_per_epoch() const = 0;
  // Mean loss (nats per target) of batch `index` (0 .. batches_per_epoch-1), adding to `stats`.
  virtual Var batch_loss(int index, Rng& dropout_rng, XentStats& stats) = 0;
  virtual double validate() = 0;  // bits per target on the validation split (or metric().valid_name)
  virtual std::string describe() const = 0;  // the data and the model, for the first progress line
  // What a resumed run must share with the one that wrote the checkpoint (data, batch, model
  // options not in its file metadata); the loop adds its own (seed, optimizer, lr, clip).
  virtual RunSettings run_settings() const = 0;
};

struct TrainResult {
  double best_valid_bpc = 0, best_valid_ppl = 0;
  double seconds = 0;
  int64_t chars = 0;
  int epochs_done = 0;
};

TrainResult train_loop(TrainTask& task, const LoopOptions& opt);
// std::invalid_argument naming the option when a setting cannot work (train_loop checks too).
void check_loop_options(const LoopOptions& opt);

}  // namespace memsig
