// speech_batches.h — what a speech model trains on: per utterance its (normalised) filterbank
// frames, its transcript and, per frame, the transcript symbol being spoken there; cut into padded,
// time-major mini-batches of utterances of similar length.
//
//   SpeechBatch  feats        [T·B·D]  row (t·B + b): frame t of utterance b (0 past its end)
//                frames       [B]      real frames of each utterance
//                text         the transcripts as a corpora/batches.h Batch (inputs <s> c1..cn,
//                             targets c1..cn </s>, mask), for the speller
//                frame_symbol [T·B]    index in the transcript of the symbol spoken at frame t
//                                      (−1: before the first word, after the last, padding, or no
//                                      timing known), for the listener's memory signature
//                frame_symbol_id [T·B] that symbol's id (−1 where the index is −1)
#pragma once
#include <string>
#include <vector>

#include "corpora/batches.h"
#include "corpora/fbank.h"
#include "corpora/feature_cache.h"
#include "corpora/speech_data.h"
#include "engine/rng.h"

namespace memsig {

struct SpeechSet {
  int dim = 0;
  std::vector<std::string> ids;
  std::vector<Tensor> feats;                      // [frames, dim]
  std::vector<Segment> texts;
  std::vector<std::vector<int>> frame_symbol;     // [frames] each
  double audio_seconds = 0;
};

// The kept utterances of `features` (computed from `data`), normalised with `norm` when given.
SpeechSet make_speech_set(const SpeechData& data, const FeatureSet& features, const FeatureNorm* norm);

struct SpeechBatch {
  int T = 0, B = 0, D = 0;
  std::vector<float> feats;
  std::vector<int> frames;
  Batch text;
  std::vector<int32_t> frame_symbol, frame_symbol_id;
  std::vector<int> utterances;  // index of each sequence in the SpeechSet
};

// Groups of utterance indices of similar frame count, at most batch_size each, ascending.
std::vector<std::vector<int>> frame_buckets(const SpeechSet& set, int batch_size);
// SpecAugment (when aug is given) masks the batch's copy of each utterance's features.
SpeechBatch make_speech_batch(const SpeechSet& set, const std::vector<int>& indices, const SpecAugment* aug = nullptr,
                              Rng* rng = nullptr);

}  // namespace memsig
