// audio.h — reading and writing audio: any file libsndfile reads (WAV, FLAC, ...; any rate; mono, or
// the first channel of several), resampled to 16 kHz with libsamplerate, as floats in [-1, 1].
// Kaldi's features work on the int16 scale: multiply by 32768 (fbank.h does).
//
// What can go wrong with a file, and what the reader says (AudioError carries the kind, so a data
// directory can decide per kind whether to stop or to skip the utterance and count it):
//   unreadable   missing, not a regular file, not an audio format libsndfile knows, a damaged header
//   empty        0 samples (or a segment that selects none)
//   too_long     more than kMaxAudioSeconds (a whole recording given as one utterance)
//   not_finite   a NaN or infinite sample (float WAVs can hold them)
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "engine/files.h"

namespace memsig {

constexpr int kSampleRate = 16000;
constexpr double kMaxAudioSeconds = 1200;  // 20 minutes: longer is not an utterance

struct AudioError : FileError {
  enum Kind { unreadable, empty, too_long, not_finite } kind;
  AudioError(const std::string& path, const std::string& problem, Kind k) : FileError(path, problem), kind(k) {}
};

struct AudioInfo {
  int64_t frames = 0;  // samples per channel at the file's own rate
  int rate = 0, channels = 0;
  double seconds() const { return rate > 0 ? double(frames) / rate : 0; }
};

AudioInfo audio_info(const std::string& path);  // header only; AudioError(unreadable) if it cannot be opened
// Samples of [start, end) seconds (end < 0: to the end of the file) of the first channel, at 16 kHz.
std::vector<float> read_audio(const std::string& path, double start = 0, double end = -1);
// The same from bytes in memory (the fuzz target reads through this).
std::vector<float> decode_audio(const std::string& bytes, const std::string& name);

// Rate conversion with libsamplerate's sinc converter (medium quality: 97 dB SNR, 90% bandwidth).
std::vector<float> resample(const std::vector<float>& x, int from_rate, int to_rate);
// 16-bit PCM WAV, written atomically. Samples are clipped to [-1, 1).
void write_wav16(const std::string& path, const std::vector<float>& x, int rate = kSampleRate);

}  // namespace memsig
