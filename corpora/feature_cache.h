// feature_cache.h — the filterbank features of a whole speech set, computed once and kept on disk.
//
// The cache file is DIR/feats/<settings>-<digest>.safetensors beside the data (DIR: --cache, by
// default the data directory itself): tensor "feats" [frames, dim] (all utterances one after
// another) and "frames" [utterances] (each one's frame count, stored as F32: exact below 2^24), with
// the utterance ids, the settings and the digest in the metadata. The digest covers every
// utterance's id, path, segment times and the audio file's size and modification time, so a
// changed set or changed audio computes afresh; the settings are in the name, so 40 and 80 bins
// live side by side. Utterances are computed in parallel (OpenMP; one Fbank per thread), with a
// progress line every 10 s. A cache that cannot be written (a read-only data folder) is a warning.
//
// Bad audio, per case: an unreadable file (missing, not audio, a damaged header) stops with a
// one-line error naming it; empty, NaN-holding, too long (> 20 min) or too short (< one 25 ms frame)
// audio skips that utterance and counts it (FeatureSet::skipped).
#pragma once
#include <map>
#include <string>
#include <vector>

#include "corpora/fbank.h"
#include "corpora/speech_data.h"

namespace memsig {

struct FeatureSet {
  FbankOptions options;
  std::vector<int> utt;                // index into SpeechData::utts of each kept utterance
  std::vector<Tensor> feats;           // [frames, dim] each
  std::map<std::string, int> skipped;  // reason -> count
  double audio_seconds = 0;            // of the kept utterances
  std::string cache_path;              // where it was read from or written to ("" = not cached)
  bool from_cache = false;
  int64_t total_frames() const;
};

// cache_dir "" = no cache. threads <= 0: the engine's thread count.
FeatureSet compute_features(const SpeechData& data, const FbankOptions& opt, const std::string& cache_dir,
                            bool quiet = false);

}  // namespace memsig
