// cmd_speech.cpp — speech data: memsig speech import-asterisk | synth | fbank | stats | timing | spectrogram.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <set>

#include "cli/commands.h"
#include "corpora/asterisk.h"
#include "corpora/audio.h"
#include "corpora/feature_cache.h"
#include "corpora/speech_data.h"
#include "corpora/timing_check.h"
#include "engine/kernels.h"
#include "engine/safetensors.h"
#include "figures/speech_plots.h"
#ifdef MEMSIG_ESPEAK
#include "corpora/synth.h"
#endif

namespace memsig::cli {

namespace {

namespace fs = std::filesystem;

struct FbankFlags {
  int mel_bins = 80;
  float dither = 0, energy_floor = 0;
  bool energy = false;
  void add_to(CLI::App* cmd) {
    cmd->add_option("--mel-bins", mel_bins, "mel bins (40 or 80)")->capture_default_str()->check(CLI::Range(1, 256));
    cmd->add_option("--dither", dither, "Gaussian dither on the int16 scale (Kaldi's default is 1)")->capture_default_str()->check(CLI::Range(0.0, 1000.0));
    cmd->add_flag("--energy", energy, "a first column with the log energy (Kaldi's --use-energy)");
    cmd->add_option("--energy-floor", energy_floor, "floor of the energy column")->capture_default_str()->check(CLI::Range(0.0, 1e30));
  }
  FbankOptions options() const {
    FbankOptions o;
    o.num_mel_bins = mel_bins, o.dither = dither, o.use_energy = energy, o.energy_floor = energy_floor;
    return o;
  }
};

std::string cache_dir_for(const std::string& data, const std::string& cache, bool no_cache) {
  if (no_cache) return "";
  if (!cache.empty()) return cache;
  std::error_code ec;
  return fs::is_directory(data, ec) ? data : fs::path(data).parent_path().string();
}

void print_skips(const std::string& what, const std::map<std::string, int>& skipped) {
  int total = 0;
  std::string parts;
  for (auto& [why, n] : skipped) total += n, parts += (parts.empty() ? "" : ", ") + std::to_string(n) + " " + why;
  if (total) std::printf("%s: %d utterances skipped (%s)\n", what.c_str(), total, parts.c_str());
}

SpeechData load_data(const std::string& where) {
  SpeechData d = read_speech_data(where);
  print_skips(where, d.skipped);
  if (d.utts.empty()) throw FileError(where, "no usable utterance");
  return d;
}

void add_import_asterisk(CLI::App* parent) {
  auto* cmd = parent->add_subcommand("import-asterisk", "a data directory (train/, test/) of the Asterisk prompts installed by Debian");
  static std::string out, sounds = kAsteriskSounds, text = kAsteriskText;
  cmd->add_option("--out", out, "the folder to write")->required();
  cmd->add_option("--sounds", sounds, "asterisk-core-sounds-en-wav's folder")->capture_default_str();
  cmd->add_option("--transcripts", text, "asterisk-core-sounds-en's core-sounds-en.txt.gz")->capture_default_str();
  cmd->callback([] {
    AsteriskReport r = import_asterisk(out, sounds, text);
    std::printf("asterisk: %d prompts with transcripts; %d train, %d test (every 5th by name)\n", r.prompts, r.train, r.test);
    std::printf("skipped: %d without a recording, %d with nothing to say, %d with a multi-digit number; %d recordings without a transcript\n",
                r.no_recording, r.no_speech, r.multi_digit, r.no_transcript);
    std::printf("wrote %s/train and %s/test\n", out.c_str(), out.c_str());
  });
}

void add_synth(CLI::App* parent) {
  auto* cmd = parent->add_subcommand("synth", "speak a text corpus with espeak-ng: a data directory per split with grapheme timing");
#ifdef MEMSIG_ESPEAK
  static SynthOptions o;
#else
  static struct {
    std::string corpus = "ptb", out;
    int train = 3000, valid = 200, test = 200, max_utterances = 0, max_symbols = 120, jobs = 0;
    uint64_t seed = 1;
  } o;
#endif
  cmd->add_option("--corpus", o.corpus, "ptb | shakespeare | FILE")->capture_default_str();
  cmd->add_option("--out", o.out, "the folder to write (train/, valid/, test/)")->required();
  cmd->add_option("--train", o.train, "training utterances")->capture_default_str()->check(CLI::Range(1, 1000000));
  cmd->add_option("--valid", o.valid, "validation utterances")->capture_default_str()->check(CLI::Range(1, 1000000));
  cmd->add_option("--test", o.test, "test utterances")->capture_default_str()->check(CLI::Range(1, 1000000));
  cmd->add_option("--max-utterances", o.max_utterances, "scale the three down to N in all (0: as given)")->capture_default_str()->check(CLI::NonNegativeNumber);
  cmd->add_option("--max-symbols", o.max_symbols, "leave out longer sentences")->capture_default_str()->check(CLI::Range(1, 1000));
  cmd->add_option("--jobs", o.jobs, "worker processes (0: the cores)")->capture_default_str()->check(CLI::NonNegativeNumber);
  cmd->add_option("--seed", o.seed)->capture_default_str();
  cmd->callback([] {
#ifdef MEMSIG_ESPEAK
    SynthReport r = synthesize_corpus(o);
    std::printf("usable sentences (no <unk>, no number, <= %d symbols): train %d, valid %d, test %d\n", o.max_symbols,
                r.candidates[0], r.candidates[1], r.candidates[2]);
    std::printf("%d utterances, %.2f h of audio; %d spoken now in %.1f s wall, %.1f s CPU in the workers\n", r.utterances,
                r.audio_seconds / 3600, r.spoken_now, r.wall_seconds, r.synth_cpu_seconds);
    if (r.spoken_now == r.utterances && r.synth_cpu_seconds > 0)
      std::printf("synthesis speed: %.1f x real time per core, %.1f x real time wall\n", r.audio_seconds / r.synth_cpu_seconds,
                  r.audio_seconds / r.wall_seconds);
#else
    throw std::runtime_error("this memsig was built without espeak-ng (MEMSIG_ESPEAK=OFF; install libespeak-ng-dev and rebuild)");
#endif
  });
}

void add_fbank(CLI::App* parent) {
  auto* cmd = parent->add_subcommand("fbank", "Kaldi log mel filterbanks of a data set (cached) or of one audio file");
  static std::string data, audio, out, cache;
  static bool no_cache = false;
  static FbankFlags f;
  auto* d = cmd->add_option("--data", data, "a Kaldi data directory or a TSV manifest");
  auto* a = cmd->add_option("--audio", audio, "one audio file (with --out: its 16 kHz samples and features)");
  d->excludes(a);
  cmd->add_option("--out", out, "with --audio: a safetensors file (tensors samples [N], fbank [frames, dim])");
  cmd->add_option("--cache", cache, "where the feature cache goes (default: beside the data)");
  cmd->add_flag("--no-cache", no_cache, "compute without reading or writing a cache");
  f.add_to(cmd);
  add_common(cmd);
  cmd->callback([] {
    if (data.empty() == audio.empty()) throw CLI::ValidationError("speech fbank needs --data or --audio");
    if (!audio.empty()) {
      if (out.empty()) throw CLI::ValidationError("speech fbank --audio needs --out");
      std::vector<float> x = read_audio(audio);
      Fbank fb(f.options());
      Rng rng(1);
      Tensor feats = fb.compute(x, &rng);
      Tensor samples({(int64_t)x.size()});
      samples.data = x;
      save_safetensors(out, {{"samples", &samples}, {"fbank", &feats}}, {{"format", "memsig-fbank-one"}, {"settings", f.options().key()}});
      std::printf("%s: %zu samples at 16 kHz, %lld frames x %lld -> %s\n", audio.c_str(), x.size(), (long long)feats.rows(),
                  (long long)feats.cols(), out.c_str());
      return;
    }
    SpeechData sd = load_data(data);
    auto t0 = std::chrono::steady_clock::now();
    FeatureSet fs = compute_features(sd, f.options(), cache_dir_for(data, cache, no_cache));
    double sec = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    print_skips("fbank", fs.skipped);
    std::printf("%zu utterances, %.2f h of audio, %lld frames x %d%s%s\n", fs.feats.size(), fs.audio_seconds / 3600,
                (long long)fs.total_frames(), fs.options.dim(), fs.from_cache ? ", read from " : "",
                fs.from_cache ? fs.cache_path.c_str() : "");
    if (!fs.from_cache)
      std::printf("computed in %.1f s: %.1f x real time on %d threads%s%s\n", sec, fs.audio_seconds / std::max(sec, 1e-9),
                  get_threads(), fs.cache_path.empty() ? "" : "; cached in ", fs.cache_path.c_str());
  });
}

void add_stats(CLI::App* parent) {
  auto* cmd = parent->add_subcommand("stats", "what a data set holds: utterances, speakers, hours, symbols, feature statistics");
  static std::string data, cache;
  static FbankFlags f;
  static bool no_features = false;
  cmd->add_option("--data", data, "a Kaldi data directory or a TSV manifest")->required();
  cmd->add_option("--cache", cache, "where the feature cache goes (default: beside the data)");
  cmd->add_flag("--no-features", no_features, "only the transcripts and audio lengths");
  f.add_to(cmd);
  add_common(cmd);
  cmd->callback([] {
    SpeechData sd = load_data(data);
    std::set<std::string> speakers;
    int64_t symbols = 0, with_timing = 0;
    size_t longest = 0;
    for (const Utterance& u : sd.utts) {
      speakers.insert(u.speaker);
      symbols += (int64_t)u.text.size();
      longest = std::max(longest, u.text.size());
      with_timing += !u.spans.empty();
    }
    std::printf("%s: %zu utterances, %zu speakers, %lld transcript symbols (longest %zu), %lld with grapheme timing\n",
                data.c_str(), sd.utts.size(), speakers.size(), (long long)symbols, longest, (long long)with_timing);
    if (no_features) return;
    FeatureSet fs = compute_features(sd, f.options(), cache_dir_for(data, cache, false));
    print_skips("audio", fs.skipped);
    std::vector<const Tensor*> all;
    std::vector<double> secs;
    for (size_t k = 0; k < fs.feats.size(); ++k) all.push_back(&fs.feats[k]), secs.push_back(fs.feats[k].rows() / 100.0);
    if (all.empty()) throw FileError(data, "no utterance with usable audio");
    std::sort(secs.begin(), secs.end());
    FeatureNorm n = FeatureNorm::from(all);
    int64_t kept_symbols = 0;
    for (int i : fs.utt) kept_symbols += (int64_t)sd.utts[i].text.size();
    std::printf("audio: %.2f h in %zu utterances; length min %.2f s, median %.2f s, max %.2f s; %.1f symbols per second\n",
                fs.audio_seconds / 3600, fs.feats.size(), secs.front(), secs[secs.size() / 2], secs.back(),
                kept_symbols / std::max(fs.audio_seconds, 1e-9));
    auto mm = [](const std::vector<double>& v) { return std::make_pair(*std::min_element(v.begin(), v.end()), *std::max_element(v.begin(), v.end())); };
    auto [mlo, mhi] = mm(n.mean);
    auto [slo, shi] = mm(n.stddev);
    std::printf("features (%s): %lld frames; per-dimension mean %.2f..%.2f, std %.2f..%.2f (ln energy)\n", fs.options.key().c_str(),
                (long long)fs.total_frames(), mlo, mhi, slo, shi);
    std::printf("mean by mel bin:");
    for (size_t d = 0; d < n.mean.size(); d += std::max<size_t>(1, n.mean.size() / 10)) std::printf(" %zu:%.2f", d, n.mean[d]);
    std::printf("\n");
  });
}

void add_timing(CLI::App* parent) {
  auto* cmd = parent->add_subcommand("timing", "check grapheme timing against the audio: silences (energy) must fall between words");
  static std::string data;
  static int count = 20;
  static double min_ms = 60;
  static bool verbose = false;
  cmd->add_option("--data", data, "a data directory with a graphemes file")->required();
  cmd->add_option("--utterances", count, "how many (the first N)")->capture_default_str()->check(CLI::PositiveNumber);
  cmd->add_option("--min-silence-ms", min_ms, "shortest silence counted (stop closures inside words last 20-80 ms)")->capture_default_str()->check(CLI::Range(10.0, 10000.0));
  cmd->add_flag("--verbose", verbose, "a line per utterance");
  cmd->callback([] {
    SpeechData sd = load_data(data);
    int checked = 0, silences = 0, between = 0, edge = 0, inside = 0, word_gaps = 0;
    double max_edge = 0;
    for (const Utterance& u : sd.utts) {
      if (checked >= count) break;
      if (u.spans.empty()) continue;
      std::vector<float> x = read_audio(u.path, u.start, u.end);
      TimingCheck c = check_timing(u, x, kSampleRate, 30, min_ms);
      std::vector<Interval> w = word_spans(u);
      for (size_t i = 0; i + 1 < w.size(); ++i) word_gaps += w[i + 1].start - w[i].end > 0.05;
      ++checked, silences += c.silences, between += c.between, edge += c.edge, inside += c.inside;
      max_edge = std::max(max_edge, c.max_edge_ms);
      if (verbose || !c.problems.empty()) {
        std::printf("%s: %d silences, %d between words, %d at a word's edge, %d inside", u.id.c_str(), c.silences,
                    c.between, c.edge, c.inside);
        for (const std::string& p : c.problems) std::printf("; %s", p.c_str());
        std::printf("\n");
      }
    }
    if (checked == 0) throw FileError(data, "no utterance has grapheme timing (no graphemes file)");
    std::printf("%d utterances: %d silences of >= %g ms found by energy: %d between word spans, %d at a word's edge "
                "(overlapping it by at most %.0f ms), %d inside a word; the timing has %d pauses > 50 ms between words\n",
                checked, silences, min_ms, between, edge, max_edge, inside, word_gaps);
    if (inside > 0) throw std::runtime_error("grapheme timing disagrees with the audio: " + std::to_string(inside) + " silences inside words");
  });
}

void add_spectrogram(CLI::App* parent) {
  auto* cmd = parent->add_subcommand("spectrogram", "one utterance's log mel spectrogram with its grapheme spans, as a PNG");
  static std::string data, utt, out;
  static FbankFlags f;
  static double min_ms = 60;
  cmd->add_option("--data", data, "a data directory")->required();
  cmd->add_option("--min-silence-ms", min_ms, "shortest silence marked")->capture_default_str()->check(CLI::Range(10.0, 10000.0));
  cmd->add_option("--utt", utt, "the utterance id (default: the first)");
  cmd->add_option("--out", out, "the PNG to write")->required();
  f.add_to(cmd);
  cmd->callback([] {
    SpeechData sd = load_data(data);
    const Utterance* u = &sd.utts[0];
    if (!utt.empty()) {
      auto it = std::find_if(sd.utts.begin(), sd.utts.end(), [](const Utterance& x) { return x.id == utt; });
      if (it == sd.utts.end()) throw FileError(data, "no utterance '" + utt + "'");
      u = &*it;
    }
    std::vector<float> x = read_audio(u->path, u->start, u->end);
    Fbank fb(f.options());
    Tensor feats = fb.compute(x);
    Canvas c = spectrogram_with_graphemes(feats, *u, energy_silences(x, kSampleRate, 40, min_ms), u->id + ": \"" + to_text(u->text) + "\"");
    c.save_png(out);
    std::printf("wrote %s (%d x %d): %s, %.2f s\n", out.c_str(), c.width(), c.height(), u->id.c_str(), x.size() / 16000.0);
  });
}

}  // namespace

void add_speech(CLI::App& app) {
  auto* cmd = app.add_subcommand("speech", "speech data: real recordings, synthesized speech with grapheme timing, Kaldi filterbanks");
  cmd->require_subcommand(1);
  add_import_asterisk(cmd);
  add_synth(cmd);
  add_fbank(cmd);
  add_stats(cmd);
  add_timing(cmd);
  add_spectrogram(cmd);
}

}  // namespace memsig::cli
