// trainer.h — training a CharLM: bucketed mini-batches, Adam (or SGD) with gradient clipping,
// a progress line (chars/s, loss, ETA), validation each epoch (or every N steps), the best model
// kept at `out`, and an atomic checkpoint at `out`.ckpt that --resume continues from exactly.
#pragma once
#include <string>

#include "corpora/corpus.h"
#include "models/charlm.h"

namespace memsig {

struct TrainOptions {
  CharLMConfig model;
  int epochs = 10;
  int batch = 64;
  float lr = 2e-3f;
  std::string optimizer = "adam";  // adam | sgd
  float momentum = 0.9f;
  float clip = 5.0f;
  uint64_t seed = 1;
  std::string out = "model.safetensors";
  bool resume = false;
  double max_minutes = 0;     // stop after this much wall time (0 = no limit)
  int eval_every = 0;         // validate every N steps as well as at each epoch's end (0 = epochs only)
  std::string log_csv;        // learning curve: seconds, epoch, step, chars, train_bpc, valid_bpc, valid_ppl
  double progress_seconds = 10;
  int checkpoint_seconds = 60;
  bool quiet = false;
};

struct TrainResult {
  double best_valid_bpc = 0, best_valid_ppl = 0;
  double seconds = 0;
  int64_t chars = 0;
  int epochs_done = 0;
};

TrainResult train_charlm(const Corpus& corpus, const TrainOptions& opt);

}  // namespace memsig
