// train_las.h — LAS on a speech data set, through the shared training loop (models/trainer.h).
//
// The data: DIR/train, DIR/valid (and DIR/test for eval), each a Kaldi data directory (the layout
// `memsig speech synth` writes) or DIR itself as a (train-only) directory. Features: Kaldi fbank with
// --mel-bins bins (cached beside the data, corpora/feature_cache.h), normalised with the training
// set's global mean and deviation, which the model file keeps. Batches: utterances of similar
// frame count (corpora/speech_batches.h), SpecAugment on the training copies when asked.
// Validation: greedy-decoding CER (%) on the valid split; the best model on it is kept. A set with
// no valid/ (the Asterisk prompts: train/ and test/) validates on every 10th training utterance,
// held out of training.
#pragma once
#include <string>

#include "corpora/fbank.h"
#include "corpora/speech_batches.h"
#include "models/las.h"
#include "models/las_decode.h"
#include "models/trainer.h"

namespace memsig {

// A split read, featurised and normalised. norm: null = compute it from this split (training).
struct LasSplit {
  SpeechData data;
  SpeechSet set;
  std::map<std::string, int> skipped;
};
LasSplit load_las_split(const std::string& dir, int mel_bins, const std::vector<double>* mean,
                        const std::vector<double>* stddev, std::vector<double>* mean_out = nullptr,
                        std::vector<double>* std_out = nullptr, bool quiet = false);
// DIR/NAME when DIR holds NAME/, else DIR itself for "train" (an error for other splits).
std::string split_dir(const std::string& dir, const std::string& name);

struct LasTrainOptions : LoopOptions {
  LasConfig model;
  LasTrainExtras extras;
  std::string data;
  int batch = 16;
  bool spec_augment = false;
  std::string init_from;  // start from this LAS model's weights and sizes (fine-tuning); features are
                          // normalised with the new training set's statistics
};

TrainResult train_las(const LasTrainOptions& opt);

// A batch of a SpeechSet as the model's input (the batch must outlive the input).
LasInput las_input(const SpeechBatch& b);
// Greedy (width 1) or beam decoding of a whole set, batch by batch; errors over it.
struct SetDecoding {
  std::vector<Decoded> hyps;  // in set order
  ErrorCounts errors;
  double seconds = 0;
};
// fusion: shallow fusion with a char LM in beam search (width > 1; models/las_fusion.h).
SetDecoding decode_set(const LAS& model, const SpeechSet& set, int width, int batch = 16, bool progress = false,
                       const Fusion* fusion = nullptr);

// The LM weight and length bonus for shallow fusion chosen on `set` (the valid split): fused beam
// decoding of its first `max_utterances` utterances (0: all) at each pair of the grids (a grid of
// one value fixes it), the lowest CER wins.
FusionTuning tune_fusion(const LAS& model, const SpeechSet& set, int width, const Fusion& fusion,
                         const std::vector<float>& weights, const std::vector<float>& bonuses, int max_utterances = 0,
                         bool progress = false);

}  // namespace memsig
