// train_charlm.h — training a CharLM with the shared loop (models/trainer.h): length-bucketed
// mini-batches of the training split, validation bpc on the valid split, model files under the
// char-LM contract (models/model_file.h).
#pragma once
#include "corpora/corpus.h"
#include "models/charlm.h"
#include "models/trainer.h"

namespace memsig {

struct TrainOptions : LoopOptions {
  CharLMConfig model;
  int batch = 64;
  std::string init_from;  // start from this model's weights (same configuration) instead of random ones
};

TrainResult train_charlm(const Corpus& corpus, const TrainOptions& opt);

// A fingerprint of a list of segments (FNV-1a over the symbols and segment ends), so a resumed run
// can tell that its data changed.

}  // namespace memsig
