// fbank.h — log mel filterbank features computed exactly as Kaldi's compute-fbank-feats (and
// torchaudio.compliance.kaldi.fbank, which the test `fbank_torchaudio` compares against), plus
// global mean/variance normalisation and SpecAugment masks.
//
// For each frame of N = 25 ms (400 samples at 16 kHz), every 10 ms (snip_edges: only whole frames,
// 1 + (samples - N) / shift of them), on the int16 scale (x·32768):
//   x += dither · gaussian                        (dither = 0: none)
//   x -= mean(x)                                  (DC removal)
//   E  = Σ x²                                     (raw energy, before pre-emphasis; only with use_energy)
//   x[i] -= 0.97·x[i−1], x[0] -= 0.97·x[0]        (pre-emphasis)
//   x[i] *= (0.5 − 0.5·cos(2πi/(N−1)))^0.85       (the "povey" window)
//   X = FFT of x zero-padded to 512 points; P[k] = |X[k]|², k = 0..255 (the Nyquist bin unused)
//   mel(f) = 1127·ln(1 + f/700); M bins with edges equally spaced in mel between 20 Hz and 8 kHz:
//     bin m (0-based) rises from l = mel(20) + m·Δ to c = l + Δ and falls to r = c + Δ,
//     Δ = (mel(8000) − mel(20)) / (M + 1); the weight of FFT bin k (frequency k·16000/512) is the
//     triangle's height at mel(k·16000/512), 0 outside (l, r)
//   fbank[m] = ln(max(Σ_k w_m[k]·P[k], ε)),  ε = 1.1920929e−7 (float epsilon)
//   with use_energy a first column ln(max(E, ε)), floored at ln(energy_floor) when energy_floor > 0.
// All of it in double precision (KissFFT's C++ template kissfft<double> for the FFT): in float, the
// quietest bins (100 dB under the frame's peak: digital silence, above 4 kHz in 8 kHz recordings)
// carry rounding errors of 1e-2 in their log; Kaldi and torchaudio run in float and have them too.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "engine/rng.h"
#include "engine/tensor.h"

namespace memsig {

struct FbankOptions {
  int num_mel_bins = 80;           // 40 or 80
  float frame_length_ms = 25, frame_shift_ms = 10;
  float dither = 0;                // Kaldi's default is 1; features for training use 0 (synthesis adds its own)
  float preemphasis = 0.97f;
  float low_freq = 20, high_freq = 0;  // high_freq <= 0: Nyquist + high_freq
  bool use_energy = false;
  float energy_floor = 0;
  int sample_rate = 16000;
  std::string key() const;         // every setting, for cache keys: "fbank80-25-10-d0-p0.97-20-0-e0-f0-16000"
  int dim() const { return num_mel_bins + (use_energy ? 1 : 0); }
};

class Fbank {
 public:
  explicit Fbank(const FbankOptions& opt);
  ~Fbank();
  Fbank(const Fbank&) = delete;
  Fbank& operator=(const Fbank&) = delete;
  int num_frames(int64_t samples) const;
  // samples in [-1, 1] at opt.sample_rate; returns [frames, dim]. rng is used only when dither > 0.
  Tensor compute(const std::vector<float>& samples, Rng* rng = nullptr) const;
  const FbankOptions& options() const { return opt_; }

 private:
  FbankOptions opt_;
  int win_, shift_, nfft_;
  std::vector<double> window_;
  std::vector<std::vector<double>> mel_weights_;  // [bin][fft bin]
  std::vector<int> mel_first_;                    // first FFT bin with a non-zero weight, per mel bin
  void* fft_ = nullptr;                           // kissfft<double> (KissFFT's C++ template, header-only)
};

// Global mean and standard deviation per feature dimension (from the training set), applied as
// (x − mean) / std.
struct FeatureNorm {
  std::vector<double> mean, stddev;
  static FeatureNorm from(const std::vector<const Tensor*>& feats);
  void apply(Tensor& f) const;
};

// SpecAugment (Park et al. 2019), the masks only: F frequency masks of width < freq_width and
// T time masks of width < time_width (and at most time_fraction of the frames), set to 0 — the
// mean after normalisation.
struct SpecAugment {
  int freq_masks = 2, freq_width = 10, time_masks = 2, time_width = 40;
  float time_fraction = 0.2f;
  void apply(float* frames_x_dim, int frames, int dim, Rng& rng) const;
};

}  // namespace memsig
