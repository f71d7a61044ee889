// Speech data: Kaldi filterbanks against the formula computed naively, audio reading and its bad
// inputs, data directories, grapheme timing, synthesis end to end (a handful of sentences), the
// feature cache and speech batches.
#include <sndfile.h>

#include <catch2/catch.hpp>
#include <cmath>
#include <complex>
#include <filesystem>
#include <fstream>
#include <set>

#include "corpora/asterisk.h"
#include "corpora/audio.h"
#include "corpora/fbank.h"
#include "corpora/feature_cache.h"
#include "corpora/speech_batches.h"
#include "corpora/speech_data.h"
#include "corpora/timing_check.h"
#ifdef MEMSIG_ESPEAK
#include "corpora/synth.h"
#endif
#include "engine/files.h"
#include "temp_files.h"

using namespace memsig;
using memsig::test::error_of;
using memsig::test::temp_path;
using memsig::test::write_bytes;
namespace fs = std::filesystem;

namespace {

// Kaldi's fbank written out plainly: a DFT by its definition, every step in double.
std::vector<double> naive_fbank_frame(const std::vector<float>& s, int t, int bins) {
  const double kPi = 3.14159265358979323846;
  const int N = 400, shift = 160, nfft = 512;
  std::vector<double> x(nfft, 0.0);
  double mean = 0;
  for (int i = 0; i < N; ++i) mean += s[t * shift + i] * 32768.0;
  mean /= N;
  for (int i = 0; i < N; ++i) x[i] = s[t * shift + i] * 32768.0 - mean;
  for (int i = N - 1; i > 0; --i) x[i] -= 0.97 * x[i - 1];
  x[0] -= 0.97 * x[0];
  for (int i = 0; i < N; ++i) x[i] *= std::pow(0.5 - 0.5 * std::cos(2 * kPi * i / (N - 1)), 0.85);
  auto mel = [](double f) { return 1127.0 * std::log(1 + f / 700.0); };
  double lo = mel(20), delta = (mel(8000) - lo) / (bins + 1);
  std::vector<double> out(bins, 0.0);
  for (int k = 0; k < nfft / 2; ++k) {
    std::complex<double> X = 0;
    for (int i = 0; i < nfft; ++i) X += x[i] * std::polar(1.0, -2 * kPi * k * i / nfft);
    double m = mel(k * 16000.0 / nfft);
    for (int b = 0; b < bins; ++b) {
      double l = lo + b * delta, c = l + delta, r = c + delta;
      double w = std::max(0.0, std::min((m - l) / (c - l), (r - m) / (r - c)));
      out[b] += w * std::norm(X);
    }
  }
  for (double& v : out) v = std::log(std::max(v, 1.1920928955078125e-07));
  return out;
}

std::vector<float> noise_and_tone(int n, uint64_t seed) {
  Rng rng(seed);
  std::vector<float> x(n);
  for (int i = 0; i < n; ++i) x[i] = 0.3f * std::sin(2 * 3.14159265f * 440 * i / 16000.0f) + 0.05f * rng.normal();
  return x;
}

// A WAV of any libsndfile format (for bad inputs libsndfile itself can write: NaN floats, 8-bit).
void write_wav(const std::string& path, const std::vector<float>& x, int rate, int format, int channels = 1) {
  SF_INFO info{};
  info.samplerate = rate, info.channels = channels, info.format = format;
  SNDFILE* f = sf_open(path.c_str(), SFM_WRITE, &info);
  REQUIRE(f);
  sf_write_float(f, x.data(), (sf_count_t)x.size());
  sf_close(f);
}

}  // namespace

TEST_CASE("fbank equals Kaldi's formula computed with a plain DFT", "[speech]") {
  std::vector<float> x = noise_and_tone(16000 / 10, 3);  // 0.1 s: 8 frames
  for (int bins : {40, 80}) {
    FbankOptions o;
    o.num_mel_bins = bins;
    Fbank fb(o);
    Tensor f = fb.compute(x);
    REQUIRE(f.rows() == 8);
    REQUIRE(f.cols() == bins);
    for (int t : {0, 7}) {
      std::vector<double> ref = naive_fbank_frame(x, t, bins);
      for (int b = 0; b < bins; ++b) REQUIRE(f.data[t * bins + b] == Approx(ref[b]).epsilon(1e-5).margin(1e-5));
    }
  }
  // A pure 440 Hz tone lands in the mel bin whose triangle peaks nearest 440 Hz.
  FbankOptions o;
  o.num_mel_bins = 40;
  std::vector<float> tone(1600);
  for (int i = 0; i < 1600; ++i) tone[i] = 0.3f * std::sin(2 * 3.14159265f * 440 * i / 16000.0f);
  Tensor f = Fbank(o).compute(tone);
  int best = 0;
  for (int b = 1; b < 40; ++b) best = f.data[b] > f.data[best] ? b : best;
  auto mel = [](double hz) { return 1127.0 * std::log(1 + hz / 700.0); };
  double centre = mel(20) + (best + 1) * (mel(8000) - mel(20)) / 41;
  REQUIRE(std::abs(centre - mel(440)) < (mel(8000) - mel(20)) / 41);
}

TEST_CASE("fbank frame count, energy column, dither and settings key", "[speech]") {
  FbankOptions o;
  Fbank fb(o);
  REQUIRE(fb.num_frames(399) == 0);
  REQUIRE(fb.num_frames(400) == 1);
  REQUIRE(fb.num_frames(560) == 2);
  REQUIRE(fb.num_frames(559) == 1);
  std::vector<float> x = noise_and_tone(1600, 5);
  o.use_energy = true;
  Tensor e = Fbank(o).compute(x);
  REQUIRE(e.cols() == 81);
  // Column 0 is ln Σ (x − mean)² of the frame on the int16 scale.
  double mean = 0, energy = 0;
  for (int i = 0; i < 400; ++i) mean += x[i] * 32768.0 / 400;
  for (int i = 0; i < 400; ++i) energy += std::pow(x[i] * 32768.0 - mean, 2);
  REQUIRE(e.data[0] == Approx(std::log(energy)).epsilon(1e-6));
  // Silence: the log floor (ε), or the energy floor when set.
  std::vector<float> zeros(800, 0.0f);
  o.energy_floor = 1.0f;
  Tensor z = Fbank(o).compute(zeros);
  REQUIRE(z.data[0] == Approx(0.0).margin(1e-6));
  REQUIRE(z.data[1] == Approx(std::log(1.1920928955078125e-07)).epsilon(1e-6));
  // Dither changes silence into noise, repeatably for one seed.
  o.dither = 1;
  Rng a(9), b(9);
  Tensor d1 = Fbank(o).compute(zeros, &a), d2 = Fbank(o).compute(zeros, &b);
  REQUIRE(d1.data == d2.data);
  REQUIRE(d1.data[5] > -5);
  REQUIRE(o.key() != FbankOptions().key());
}

TEST_CASE("global normalisation and SpecAugment", "[speech]") {
  Tensor a({50, 3}), b({30, 3});
  Rng rng(2);
  for (float& v : a.data) v = 5 + 2 * rng.normal();
  for (float& v : b.data) v = 5 + 2 * rng.normal();
  FeatureNorm n = FeatureNorm::from({&a, &b});
  n.apply(a), n.apply(b);
  for (int d = 0; d < 3; ++d) {
    double s = 0, s2 = 0;
    for (const Tensor* t : {&a, &b})
      for (int64_t r = 0; r < t->rows(); ++r) s += t->data[r * 3 + d], s2 += t->data[r * 3 + d] * t->data[r * 3 + d];
    REQUIRE(s / 80 == Approx(0).margin(1e-5));
    REQUIRE(s2 / 80 == Approx(1).epsilon(1e-4));
  }
  std::vector<float> x(100 * 20, 1.0f);
  SpecAugment aug;
  aug.freq_masks = 1, aug.freq_width = 6, aug.time_masks = 1, aug.time_width = 30;
  Rng r1(4);
  aug.apply(x.data(), 100, 20, r1);
  int zeros = (int)std::count(x.begin(), x.end(), 0.0f);
  REQUIRE(zeros > 0);
  REQUIRE(zeros < 100 * 20 / 2);
  // A masked time step is zero across all bins.
  for (int t = 0; t < 100; ++t) {
    int z = (int)std::count(x.begin() + t * 20, x.begin() + (t + 1) * 20, 0.0f);
    REQUIRE((z == 20 || z <= 5));
  }
}

TEST_CASE("audio: WAV round trip, resampling to 16 kHz, the first channel", "[speech]") {
  std::string p = temp_path("a.wav");
  std::vector<float> x = noise_and_tone(16000, 7);
  write_wav16(p, x);
  std::vector<float> y = read_audio(p);
  REQUIRE(y.size() == x.size());
  for (size_t i = 0; i < x.size(); i += 997) REQUIRE(y[i] == Approx(x[i]).margin(1.0 / 32768));
  // A segment.
  REQUIRE(read_audio(p, 0.25, 0.5).size() == 4000);
  // 8 kHz stereo: resampled, first channel only (the second is silence).
  std::string q = temp_path("b.wav");
  std::vector<float> st(8000 * 2);
  for (int i = 0; i < 8000; ++i) st[2 * i] = 0.5f * std::sin(2 * 3.14159265f * 300 * i / 8000.0f), st[2 * i + 1] = 0;
  write_wav(q, st, 8000, SF_FORMAT_WAV | SF_FORMAT_PCM_16, 2);
  std::vector<float> z = read_audio(q);
  REQUIRE(std::abs((int)z.size() - 16000) <= 2);
  double rms = 0;
  for (size_t i = 1000; i < 15000; ++i) rms += z[i] * z[i];
  REQUIRE(std::sqrt(rms / 14000) == Approx(0.5 / std::sqrt(2)).epsilon(0.02));
  fs::remove(p), fs::remove(q);
}

TEST_CASE("audio: bad files get one-line errors of the right kind", "[speech][hostile]") {
  auto kind_of = [](const std::string& p) {
    try {
      read_audio(p);
    } catch (const AudioError& e) {
      REQUIRE(std::string(e.what()).find(p) == 0);
      REQUIRE(std::string(e.what()).find('\n') == std::string::npos);
      return (int)e.kind;
    }
    return -1;
  };
  std::string text = temp_path("text.wav"), empty = temp_path("empty.wav"), nan = temp_path("nan.wav"),
              longf = temp_path("long.wav"), dir = temp_path("dir.wav");
  write_bytes(text, "this is not audio\n");
  REQUIRE(kind_of(text) == AudioError::unreadable);
  REQUIRE(kind_of(text + ".missing") == AudioError::unreadable);
  fs::create_directories(dir);
  REQUIRE(kind_of(dir) == AudioError::unreadable);
  write_wav(empty, {}, 16000, SF_FORMAT_WAV | SF_FORMAT_PCM_16);
  REQUIRE(kind_of(empty) == AudioError::empty);
  write_wav(nan, {0.1f, NAN, 0.2f, 0.0f}, 16000, SF_FORMAT_WAV | SF_FORMAT_FLOAT);
  REQUIRE(kind_of(nan) == AudioError::not_finite);
  // Two hours (at 1 kHz, 8-bit, so the file stays small): too long for an utterance, refused before reading.
  write_wav(longf, std::vector<float>(1000 * 7200, 0.0f), 1000, SF_FORMAT_WAV | SF_FORMAT_PCM_U8);
  REQUIRE(kind_of(longf) == AudioError::too_long);
  // A segment of it is fine.
  REQUIRE(read_audio(longf, 10, 11).size() == 16000);
  // Header only, then truncated data: what is there is read, or it is empty; never a crash.
  std::string trunc = temp_path("trunc.wav");
  write_wav16(trunc, noise_and_tone(4000, 1));
  std::string bytes = read_file(trunc);
  write_bytes(trunc, bytes.substr(0, 44 + 100));
  std::string e = error_of([&] { REQUIRE(read_audio(trunc).size() <= 4000); });
  REQUIRE((e.empty() || e.find(trunc) == 0));
  // A sample format libsndfile does not decode: a WAV header announcing MPEG layer 3 (format tag
  // 0x0055); and headerless PCM.
  std::string mp3 = temp_path("mp3.wav"), raw = temp_path("pcm.raw");
  std::string h = "RIFF";
  auto u32 = [&](uint32_t v) { for (int i = 0; i < 4; ++i) h += char((v >> (8 * i)) & 255); };
  auto u16 = [&](uint16_t v) { h += char(v & 255), h += char(v >> 8); };
  u32(36 + 64), h += "WAVEfmt ", u32(16), u16(0x0055), u16(1), u32(16000), u32(2000), u16(1), u16(0), h += "data", u32(64);
  write_bytes(mp3, h + std::string(64, '\x11'));
  REQUIRE(kind_of(mp3) == AudioError::unreadable);
  write_bytes(raw, std::string(3200, '\x01'));
  REQUIRE(kind_of(raw) == AudioError::unreadable);
  for (auto& p : {text, empty, nan, longf, trunc, mp3, raw}) fs::remove(p);
  fs::remove_all(dir);
}

TEST_CASE("data directory: paths, segments, speakers, graphemes, skips counted, errors naming file and line", "[speech]") {
  SpeechData d = parse_data_dir("/data/x", "r1 wav/r1.wav\nr2 /abs/r2.flac\n",
                                "u1 Hello, World!\nu2 ((( )))\nu3 the end\nu9 no audio\n", "u1 spk1\nu3 spk2\n",
                                "u1 r1 0.5 1.25\nu2 r1 0 1\nu3 r2 0 -1\n", "u3 0 0.1 0.1 0.2 0.2 0.3 0.3 0.4 0.4 0.5 0.5 0.6 0.6 0.7\n");
  REQUIRE(d.utts.size() == 2);
  REQUIRE(d.utts[0].id == "u1");
  REQUIRE(d.utts[0].path == "/data/x/wav/r1.wav");
  REQUIRE(d.utts[0].start == 0.5);
  REQUIRE(d.utts[0].end == 1.25);
  REQUIRE(d.utts[0].speaker == "spk1");
  REQUIRE(to_text(d.utts[0].text) == "hello, world.");
  REQUIRE(d.utts[1].path == "/abs/r2.flac");
  REQUIRE(d.utts[1].spans.size() == 14);
  REQUIRE(d.skipped.at("no usable symbol in the transcript") == 1);
  REQUIRE(d.skipped.at("not in segments") == 1);
  REQUIRE(d.skipped_summary().find("2 skipped") == 0);
  // Without segments: utterance = recording; audio without text is counted.
  SpeechData e = parse_data_dir("", "a a.wav\nb b.wav\n", "a hi\nc lost\n", "", "", "");
  REQUIRE(e.utts.size() == 1);
  REQUIRE(e.skipped.at("no audio in wav.scp") == 1);
  REQUIRE(e.skipped.at("audio with no transcript") == 1);
  // Errors.
  REQUIRE(error_of([] { parse_data_dir("d", "a sox a.flac -t wav - |\n", "a hi\n", "", "", ""); }).find("d/wav.scp:1: piped command entries are not supported") == 0);
  REQUIRE(error_of([] { parse_data_dir("d", "a a.wav\na b.wav\n", "a hi\n", "", "", ""); }).find("d/wav.scp:2: duplicate id 'a'") == 0);
  REQUIRE(error_of([] { parse_data_dir("d", "a\n", "a hi\n", "", "", ""); }).find("d/wav.scp:1: 'a' has no path") == 0);
  REQUIRE(error_of([] { parse_data_dir("d", "r a.wav\n", "a hi\n", "", "a r x 2\n", ""); }).find("d/segments:1:") == 0);
  REQUIRE(error_of([] { parse_data_dir("d", "r a.wav\n", "a hi\n", "", "a r 3 2\n", ""); }).find("ends before it starts") != std::string::npos);
  REQUIRE(error_of([] { parse_data_dir("d", "a a.wav\n", "a hi\n", "", "", "a 0 1\n"); }).find("d/graphemes:1: 2 times for a transcript of 2 symbols") == 0);
  REQUIRE(error_of([] { parse_data_dir("d", "a a.wav\n", "a hi\n", "", "", "a 0 1 nan 2\n"); }).find("d/graphemes:1: 'nan'") == 0);
  REQUIRE(error_of([] { parse_data_dir("d", "a a.wav\n", "a hi\n", "", "", "a 0.5 1 0 2\n"); }).find("in order") != std::string::npos);
  REQUIRE(error_of([] { parse_data_dir("d", "a a.wav\n", "a hi\n", "a x y\n", "", ""); }).find("d/utt2spk:1:") == 0);
  // A TSV manifest.
  SpeechData m = parse_manifest("/m/list.tsv", "x.wav\tGood morning\n\ny.wav\t%%%\n");
  REQUIRE(m.utts.size() == 1);
  REQUIRE(m.utts[0].path == "/m/x.wav");
  REQUIRE(m.skipped.at("no usable symbol in the transcript") == 1);
  REQUIRE(error_of([] { parse_manifest("l.tsv", "no tab here\n"); }).find("l.tsv:1: expected") == 0);
  REQUIRE(error_of([] { read_speech_data(temp_path("nowhere")); }).find("no such data directory or manifest") != std::string::npos);
}

TEST_CASE("asterisk prompts: transcripts as spoken, a fixed split", "[speech]") {
  std::string why;
  REQUIRE(asterisk_transcript("Press 1, then * [beep] or #.") == "press one, then star or pound.");
  REQUIRE(asterisk_transcript("3D audio") == "three d audio");
  REQUIRE(asterisk_transcript("Enter 1234 now", &why).empty());
  REQUIRE(why == "multi-digit number");
  REQUIRE(asterisk_transcript("[ascending tones]", &why).empty());
  REQUIRE(why == "nothing to say");
  if (!fs::is_directory(kAsteriskSounds) || !fs::exists(kAsteriskText)) return;  // packages not installed
  std::string dir = temp_path("asterisk");
  AsteriskReport r = import_asterisk(dir);
  int kept = r.train + r.test;
  REQUIRE(kept == r.prompts - r.no_recording - r.no_speech - r.multi_digit);
  REQUIRE(r.test == kept / 5);
  SpeechData train = read_speech_data(dir + "/train"), test = read_speech_data(dir + "/test");
  REQUIRE((int)train.utts.size() == r.train);
  REQUIRE((int)test.utts.size() == r.test);
  std::set<std::string> train_ids;
  for (const Utterance& u : train.utts) train_ids.insert(u.id);
  for (const Utterance& u : test.utts) {
    REQUIRE(!train_ids.count(u.id));
    REQUIRE(fs::exists(u.path));
  }
  fs::remove_all(dir);
}

TEST_CASE("frame_symbols: the symbol whose span holds each frame's centre", "[speech]") {
  Utterance u;
  u.text = normalize("ab c");
  u.spans = {0.10f, 0.20f, 0.20f, 0.30f, 0.30f, 0.30f, 0.30f, 0.45f};  // the space has no time
  std::vector<int> f = frame_symbols(u, 50);
  // Frame t's centre is at t·0.01 + 0.0125 s.
  REQUIRE(f[0] == -1);   // 0.0125: before the first span
  REQUIRE(f[9] == 0);    // 0.1025: 'a'
  REQUIRE(f[18] == 0);   // 0.1925: still 'a'
  REQUIRE(f[19] == 1);   // 0.2025: 'b'
  REQUIRE(f[29] == 3);   // 0.3025: 'c' (the space, of no length, holds no frame)
  REQUIRE(f[44] == -1);  // 0.4525: after the last span
}

TEST_CASE("data directory written and read back", "[speech]") {
  std::string dir = temp_path("dd");
  fs::create_directories(dir + "/wav");
  std::vector<Utterance> us(2);
  for (int i = 0; i < 2; ++i) {
    us[i].id = "s-u" + std::to_string(i);
    us[i].speaker = "s";
    us[i].path = dir + "/wav/" + us[i].id + ".wav";
    us[i].text = normalize(i ? "yes" : "no.");
    for (size_t k = 0; k < us[i].text.size(); ++k) us[i].spans.push_back(0.1f * k), us[i].spans.push_back(0.1f * k + 0.1f);
    write_wav16(us[i].path, noise_and_tone(8000, i));
  }
  write_data_dir(dir, us);
  REQUIRE(read_file(dir + "/wav.scp") == "s-u0 wav/s-u0.wav\ns-u1 wav/s-u1.wav\n");
  SpeechData d = read_speech_data(dir);
  REQUIRE(d.utts.size() == 2);
  REQUIRE(d.utts[1].spans.size() == 6);
  REQUIRE(d.utts[1].spans[5] == Approx(0.3f));
  // Features, cached: the second call reads the cache and gives the same numbers.
  FbankOptions o;
  o.num_mel_bins = 40;
  FeatureSet a = compute_features(d, o, dir, true);
  REQUIRE_FALSE(a.from_cache);
  REQUIRE(a.feats.size() == 2);
  REQUIRE(a.feats[0].rows() == 48);
  FeatureSet b = compute_features(d, o, dir, true);
  REQUIRE(b.from_cache);
  REQUIRE(b.feats[1].data == a.feats[1].data);
  // Batches carry features, transcripts and per-frame symbols.
  FeatureNorm n = FeatureNorm::from({&a.feats[0], &a.feats[1]});
  SpeechSet set = make_speech_set(d, a, &n);
  auto buckets = frame_buckets(set, 2);
  REQUIRE(buckets.size() == 1);
  SpeechBatch batch = make_speech_batch(set, buckets[0]);
  REQUIRE(batch.T == 48);
  REQUIRE(batch.B == 2);
  REQUIRE(batch.D == 40);
  REQUIRE(batch.text.targets[0 * 2 + 0] == symbol_of_char(to_text(set.texts[buckets[0][0]])[0]));
  int b0 = 0;
  REQUIRE(batch.frame_symbol[0 * 2 + b0] == 0);  // centre 0.0125 s: the first symbol (0-0.1 s)
  REQUIRE(batch.frame_symbol[12 * 2 + b0] == 1);  // 0.1325 s
  REQUIRE(batch.frame_symbol_id[12 * 2 + b0] == set.texts[buckets[0][b0]][1]);
  REQUIRE(batch.frame_symbol[40 * 2 + b0] == -1);  // after the last span
  // An unreadable file stops with its name; an empty one is skipped and counted.
  write_bytes(d.utts[0].path, "");
  write_wav(d.utts[1].path, {}, 16000, SF_FORMAT_WAV | SF_FORMAT_PCM_16);
  std::string err = error_of([&] { compute_features(d, o, "", true); });
  REQUIRE(err.find(d.utts[0].path + ": ") == 0);
  write_wav16(d.utts[0].path, noise_and_tone(8000, 3));
  FeatureSet c = compute_features(d, o, "", true);
  REQUIRE(c.feats.size() == 1);
  REQUIRE(c.skipped.at("empty audio") == 1);
  fs::remove_all(dir);
}

TEST_CASE("timing check: silences inside a word are found", "[speech]") {
  std::vector<float> x(16000, 0.0f);
  for (int i = 0; i < 16000; ++i)
    if (i < 4000 || i >= 8000) x[i] = 0.3f * std::sin(0.2f * i);  // sound, 250 ms of silence, sound
  Utterance u;
  u.text = normalize("ab cd");
  u.spans = {0.0f, 0.1f, 0.1f, 0.25f, 0.25f, 0.5f, 0.5f, 0.7f, 0.7f, 1.0f};  // the silence is the space
  TimingCheck ok = check_timing(u, x, 16000);
  REQUIRE(ok.silences == 1);
  REQUIRE(ok.between == 1);
  u.spans = {0.0f, 0.2f, 0.2f, 0.3f, 0.3f, 0.5f, 0.5f, 0.7f, 0.7f, 1.0f};  // "ab" ends 50 ms into the silence
  TimingCheck edge = check_timing(u, x, 16000);
  REQUIRE(edge.edge == 1);
  REQUIRE(edge.inside == 0);
  REQUIRE(edge.max_edge_ms == Approx(50).margin(1));
  u.spans = {0.0f, 0.3f, 0.3f, 0.6f, 0.6f, 0.65f, 0.65f, 0.8f, 0.8f, 1.0f};  // "ab" spans the whole silence
  TimingCheck bad = check_timing(u, x, 16000);
  REQUIRE(bad.inside == 1);
  REQUIRE(bad.problems[0].find("inside word 1") != std::string::npos);
}

#ifdef MEMSIG_ESPEAK
TEST_CASE("grapheme timing rule: letters share their word, the rest the gaps", "[speech]") {
  // "mr. ab, cd": events at 'm' (0 s), at the blank before "ab" (0.4 s, as espeak does after
  // "mr."), at 'c' (1.0 s); a pause at 0.8 s; audio 1.5 s.
  std::string text = "mr. ab, cd";
  std::vector<float> s = grapheme_spans(text, {0, 3, 8}, {0.0, 0.4, 1.0}, {0.8}, 1.5);
  REQUIRE(s.size() == 20);
  auto span = [&](int c) { return std::make_pair(s[2 * c], s[2 * c + 1]); };
  REQUIRE(span(0).first == Approx(0.0));   // m
  REQUIRE(span(1).second == Approx(0.4));  // r ends where "ab" starts
  REQUIRE(span(2).first == Approx(0.4));   // "." and " " share the zero gap
  REQUIRE(span(3).second == Approx(0.4));
  REQUIRE(span(4).first == Approx(0.4));   // a: 0.4-0.6
  REQUIRE(span(4).second == Approx(0.6));
  REQUIRE(span(5).second == Approx(0.8));  // b ends at the pause
  REQUIRE(span(6).first == Approx(0.8));   // "," and " " share the pause 0.8-1.0
  REQUIRE(span(7).second == Approx(1.0));
  REQUIRE(span(9).second == Approx(1.5));  // d ends with the audio
  REQUIRE(join_contractions("they did n't say it 's mine") == "they didn't say it's mine");
}

TEST_CASE("synthesis end to end: a few sentences, timing checked, resumable, speakers disjoint", "[speech][espeak]") {
  std::string dir = temp_path("synth"), text = temp_path("sentences.txt");
  std::string lines;
  const char* s[] = {"the company said it expects sales to rise", "shares fell sharply, and traders were worried",
                     "the board will meet next week", "he did n't comment on the report"};
  for (int i = 0; i < 40; ++i) lines += std::string(s[i % 4]) + "\n";
  write_bytes(text, lines);
  SynthOptions o;
  o.corpus = text, o.out = dir, o.train = 3, o.valid = 1, o.test = 1, o.jobs = 2;
  SynthReport r = synthesize_corpus(o);
  REQUIRE(r.utterances == 5);
  REQUIRE(r.spoken_now == 5);
  SynthReport again = synthesize_corpus(o);  // resumes: nothing left to speak
  REQUIRE(again.spoken_now == 0);
  std::set<std::string> spk[3];
  int k = 0;
  for (const char* split : {"train", "valid", "test"}) {
    SpeechData d = read_speech_data(dir + "/" + split);
    REQUIRE(d.utts.size() == (k == 0 ? 3u : 1u));
    for (const Utterance& u : d.utts) {
      spk[k].insert(u.speaker);
      REQUIRE(u.spans.size() == 2 * u.text.size());
      std::vector<float> x = read_audio(u.path);
      REQUIRE(x.size() > 8000);
      for (size_t i = 1; i < u.spans.size(); ++i) REQUIRE(u.spans[i] >= u.spans[i - 1]);
      REQUIRE(u.spans.back() <= x.size() / 16000.0 + 1e-3);
      TimingCheck c = check_timing(u, x, kSampleRate);
      REQUIRE(c.inside == 0);           // no pause in the middle of a word
      REQUIRE(c.max_edge_ms <= 80);     // and word boundaries within 80 ms of the silences
      REQUIRE(to_text(u.text).find(" n't") == std::string::npos);  // contractions are joined
    }
    ++k;
  }
  for (const std::string& a : spk[0]) REQUIRE((!spk[1].count(a) && !spk[2].count(a)));
  // Another setting in the same folder is refused.
  o.seed = 2;
  REQUIRE(error_of([&] { synthesize_corpus(o); }).find("other settings") != std::string::npos);
  fs::remove_all(dir), fs::remove(text);
}
#endif
