#include "corpora/fbank.h"

#include <kissfft.hh>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <stdexcept>

namespace memsig {

namespace {

constexpr double kPi = 3.14159265358979323846;
constexpr float kEpsilon = 1.1920928955078125e-07f;  // float epsilon, Kaldi's and torchaudio's floor
double mel(double hz) { return 1127.0 * std::log(1.0 + hz / 700.0); }

}  // namespace

std::string FbankOptions::key() const {
  char b[200];
  std::snprintf(b, sizeof b, "fbank%d-%g-%g-d%g-p%g-%g-%g-e%d-f%g-%d", num_mel_bins, frame_length_ms, frame_shift_ms,
                dither, preemphasis, low_freq, high_freq, use_energy ? 1 : 0, energy_floor, sample_rate);
  return b;
}

Fbank::Fbank(const FbankOptions& opt) : opt_(opt) {
  if (opt.num_mel_bins < 1 || opt.num_mel_bins > 256) throw std::invalid_argument("fbank: --mel-bins must be 1..256");
  win_ = (int)std::lround(opt.sample_rate * opt.frame_length_ms / 1000.0);
  shift_ = (int)std::lround(opt.sample_rate * opt.frame_shift_ms / 1000.0);
  if (win_ < 2 || shift_ < 1) throw std::invalid_argument("fbank: frame length and shift too short");
  nfft_ = 1;
  while (nfft_ < win_) nfft_ *= 2;
  window_.resize(win_);
  for (int i = 0; i < win_; ++i) window_[i] = std::pow(0.5 - 0.5 * std::cos(2 * kPi * i / (win_ - 1)), 0.85);
  // Triangular mel filters, sampled at the FFT bins (the Nyquist bin excluded, as in Kaldi).
  double nyquist = 0.5 * opt.sample_rate;
  double high = opt.high_freq <= 0 ? nyquist + opt.high_freq : opt.high_freq;
  if (!(opt.low_freq >= 0 && high > opt.low_freq && high <= nyquist))
    throw std::invalid_argument("fbank: need 0 <= low_freq < high_freq <= Nyquist");
  double lo = mel(opt.low_freq), delta = (mel(high) - lo) / (opt.num_mel_bins + 1);
  double bin_hz = double(opt.sample_rate) / nfft_;
  int nbins = nfft_ / 2;
  mel_weights_.assign(opt.num_mel_bins, std::vector<double>(nbins, 0.0));
  mel_first_.assign(opt.num_mel_bins, nbins);
  for (int m = 0; m < opt.num_mel_bins; ++m) {
    double l = lo + m * delta, c = lo + (m + 1) * delta, r = lo + (m + 2) * delta;
    for (int k = 0; k < nbins; ++k) {
      double f = mel(bin_hz * k);
      double w = std::max(0.0, std::min((f - l) / (c - l), (r - f) / (r - c)));
      mel_weights_[m][k] = w;
      if (w > 0 && mel_first_[m] == nbins) mel_first_[m] = k;
    }
  }
  fft_ = new kissfft<double>(nfft_ / 2, false);  // a real FFT of nfft points, as nfft/2 complex ones
}

Fbank::~Fbank() { delete static_cast<kissfft<double>*>(fft_); }

int Fbank::num_frames(int64_t samples) const { return samples < win_ ? 0 : (int)(1 + (samples - win_) / shift_); }

Tensor Fbank::compute(const std::vector<float>& samples, Rng* rng) const {
  const int frames = num_frames((int64_t)samples.size()), dim = opt_.dim(), M = opt_.num_mel_bins;
  const int off = opt_.use_energy ? 1 : 0;
  Tensor out({(int64_t)frames, (int64_t)dim});
  std::vector<double> x(nfft_, 0.0), power(nfft_ / 2 + 1);
  std::vector<std::complex<double>> spec(nfft_ / 2);
  const kissfft<double>& fft = *static_cast<const kissfft<double>*>(fft_);
  for (int t = 0; t < frames; ++t) {
    const float* s = samples.data() + (size_t)t * shift_;
    double sum = 0;
    for (int i = 0; i < win_; ++i) {
      x[i] = s[i] * 32768.0;  // Kaldi works on the int16 scale
      if (opt_.dither > 0 && rng) x[i] += opt_.dither * rng->normal();
      sum += x[i];
    }
    double mean = sum / win_;
    double energy = 0;
    for (int i = 0; i < win_; ++i) {
      x[i] -= mean;
      energy += (double)x[i] * x[i];
    }
    for (int i = win_ - 1; i > 0; --i) x[i] -= opt_.preemphasis * x[i - 1];
    x[0] -= opt_.preemphasis * x[0];
    for (int i = 0; i < win_; ++i) x[i] *= window_[i];
    std::fill(x.begin() + win_, x.end(), 0.0);
    fft.transform_real(x.data(), spec.data());  // spec[0] packs X[0] (real) and X[nfft/2] (imaginary)
    power[0] = spec[0].real() * spec[0].real();
    for (int k = 1; k < nfft_ / 2; ++k) power[k] = std::norm(spec[k]);
    float* row = out.ptr() + (size_t)t * dim;
    if (opt_.use_energy) {
      double e = std::log(std::max(energy, (double)kEpsilon));
      if (opt_.energy_floor > 0) e = std::max(e, std::log((double)opt_.energy_floor));
      row[0] = (float)e;
    }
    for (int m = 0; m < M; ++m) {
      const std::vector<double>& w = mel_weights_[m];
      double e = 0;
      for (int k = mel_first_[m]; k < nfft_ / 2 && w[k] > 0; ++k) e += w[k] * power[k];
      row[off + m] = (float)std::log(std::max(e, (double)kEpsilon));
    }
  }
  return out;
}

FeatureNorm FeatureNorm::from(const std::vector<const Tensor*>& feats) {
  FeatureNorm n;
  int64_t count = 0;
  for (const Tensor* f : feats) {
    int64_t D = f->cols();
    if (n.mean.empty()) n.mean.assign(D, 0.0), n.stddev.assign(D, 0.0);
    if ((size_t)D != n.mean.size()) throw std::invalid_argument("FeatureNorm: feature widths differ");
    for (int64_t t = 0; t < f->rows(); ++t)
      for (int64_t d = 0; d < D; ++d) {
        double v = f->data[t * D + d];
        n.mean[d] += v;
        n.stddev[d] += v * v;
      }
    count += f->rows();
  }
  if (count == 0) throw std::invalid_argument("FeatureNorm: no frames to measure");
  for (size_t d = 0; d < n.mean.size(); ++d) {
    n.mean[d] /= count;
    n.stddev[d] = std::sqrt(std::max(n.stddev[d] / count - n.mean[d] * n.mean[d], 1e-10));
  }
  return n;
}

void FeatureNorm::apply(Tensor& f) const {
  int64_t D = f.cols();
  if ((size_t)D != mean.size()) throw std::invalid_argument("FeatureNorm: feature width differs from the statistics'");
  for (int64_t t = 0; t < f.rows(); ++t)
    for (int64_t d = 0; d < D; ++d) f.data[t * D + d] = (float)((f.data[t * D + d] - mean[d]) / stddev[d]);
}

void SpecAugment::apply(float* x, int frames, int dim, Rng& rng) const {
  for (int i = 0; i < freq_masks && freq_width > 0; ++i) {
    int w = (int)rng.below(freq_width);
    if (w == 0 || w >= dim) continue;
    int f0 = (int)rng.below(dim - w + 1);
    for (int t = 0; t < frames; ++t) std::fill(x + (size_t)t * dim + f0, x + (size_t)t * dim + f0 + w, 0.0f);
  }
  int max_w = std::min(time_width, (int)(time_fraction * frames));
  for (int i = 0; i < time_masks && max_w > 0; ++i) {
    int w = (int)rng.below(max_w);
    if (w == 0 || w >= frames) continue;
    int t0 = (int)rng.below(frames - w + 1);
    std::fill(x + (size_t)t0 * dim, x + (size_t)(t0 + w) * dim, 0.0f);
  }
}

}  // namespace memsig
