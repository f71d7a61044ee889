#include "corpora/synth.h"

#include <espeak-ng/speak_lib.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <sstream>
#include <thread>

#include "corpora/audio.h"
#include "corpora/batches.h"
#include "corpora/corpus.h"
#include "corpora/speech_data.h"
#include "engine/files.h"
#include "engine/rng.h"

namespace memsig {

namespace fs = std::filesystem;

namespace {

// What espeak hands the callback during one espeak_Synth call.
struct Capture {
  std::vector<short> pcm;
  std::vector<int> word_pos;
  std::vector<double> word_ms, pause_ms;
};
Capture* g_capture = nullptr;

int on_synth(short* wav, int n, espeak_EVENT* ev) {
  if (!g_capture) return 1;
  if (wav && n > 0) g_capture->pcm.insert(g_capture->pcm.end(), wav, wav + n);
  for (; ev && ev->type != espeakEVENT_LIST_TERMINATED; ++ev) {
    if (ev->type == espeakEVENT_WORD) {
      g_capture->word_pos.push_back(ev->text_position - 1);  // espeak counts from 1
      g_capture->word_ms.push_back(ev->audio_position);
    } else if (ev->type == espeakEVENT_PHONEME && ev->id.string[0] == '_') {
      g_capture->pause_ms.push_back(ev->audio_position);
    }
  }
  return 0;
}

bool is_letter(char c) { return c >= 'a' && c <= 'z'; }

}  // namespace

std::string Speaker::name() const {
  return voice + "+" + variant + "-r" + std::to_string(rate) + "-p" + std::to_string(pitch);
}

SpeakerSplit speaker_split(uint64_t seed, int valid, int test) {
  const char* voices[] = {"en-us", "en", "en-gb-scotland", "en-gb-x-rp", "en-029", "en-us-nyc", "en-gb-x-gbclan", "en-gb-x-gbcwmd"};
  const char* variants[] = {"m1", "m2", "m3", "m4", "m5", "m6", "m7", "f1", "f2", "f3", "f4", "f5"};
  std::vector<Speaker> all;
  Rng rng(seed * 7919 + 17);
  for (const char* v : voices)
    for (const char* w : variants) {
      Speaker s;
      s.voice = v, s.variant = w;
      s.rate = 140 + (int)rng.below(71);   // 140..210 words per minute (espeak's default is 175)
      s.pitch = 35 + (int)rng.below(31);   // 35..65 (default 50)
      all.push_back(s);
    }
  for (size_t i = all.size(); i > 1; --i) std::swap(all[i - 1], all[rng.below(i)]);
  SpeakerSplit sp;
  sp.test.assign(all.begin(), all.begin() + test);
  sp.valid.assign(all.begin() + test, all.begin() + test + valid);
  sp.train.assign(all.begin() + test + valid, all.end());
  return sp;
}

std::vector<float> grapheme_spans(const std::string& text, const std::vector<int>& word_pos,
                                  const std::vector<double>& word_time, const std::vector<double>& pause_time,
                                  double audio_seconds) {
  const int n = (int)text.size();
  // Words: runs of non-blanks holding a letter; [first letter, last letter] is what is spoken.
  struct Word {
    int begin, end, first, last;  // the run [begin, end); its letters' range [first, last]
    double start = -1, stop = -1;
  };
  std::vector<Word> words;
  for (int i = 0; i < n;) {
    if (text[i] == ' ') { ++i; continue; }
    int j = i;
    while (j < n && text[j] != ' ') ++j;
    int f = -1, l = -1;
    for (int k = i; k < j; ++k)
      if (is_letter(text[k])) { if (f < 0) f = k; l = k; }
    if (f >= 0) words.push_back({i, j, f, l});
    i = j;
  }
  // Each event to the first word that ends after its position; a word keeps its first event.
  for (size_t e = 0; e < word_pos.size(); ++e)
    for (Word& w : words)
      if (w.end > word_pos[e]) {
        if (w.start < 0) w.start = std::clamp(word_time[e], 0.0, audio_seconds);
        break;
      }
  std::vector<Word> spoken;
  for (const Word& w : words)
    if (w.start >= 0 && (spoken.empty() || w.start >= spoken.back().start)) spoken.push_back(w);
  for (size_t k = 0; k < spoken.size(); ++k) {
    double next = k + 1 < spoken.size() ? spoken[k + 1].start : audio_seconds;
    double stop = next;
    for (double p : pause_time)
      if (p > spoken[k].start && p < stop) stop = p;
    spoken[k].stop = stop;
  }
  std::vector<float> spans(2 * n, 0.0f);
  auto share = [&](int from, int to, double t0, double t1) {  // characters [from, to) share [t0, t1)
    for (int c = from; c < to; ++c) {
      spans[2 * c] = (float)(t0 + (t1 - t0) * (c - from) / (to - from));
      spans[2 * c + 1] = (float)(t0 + (t1 - t0) * (c - from + 1) / (to - from));
    }
  };
  int at = 0;
  double gap_start = 0;
  for (const Word& w : spoken) {
    share(at, w.first, gap_start, w.start);         // the gap before the word
    share(w.first, w.last + 1, w.start, w.stop);    // the word's letters
    at = w.last + 1;
    gap_start = w.stop;
  }
  share(at, n, gap_start, std::max(gap_start, audio_seconds));
  return spans;
}

Synthesizer::Synthesizer() {
  rate_ = espeak_Initialize(AUDIO_OUTPUT_SYNCHRONOUS, 0, nullptr, espeakINITIALIZE_PHONEME_EVENTS | espeakINITIALIZE_DONT_EXIT);
  if (rate_ <= 0) throw std::runtime_error("espeak-ng could not start (is espeak-ng-data installed?)");
  espeak_SetSynthCallback(on_synth);
}

Spoken Synthesizer::speak(const std::string& text, const Speaker& who, uint64_t dither_seed) {
  std::string voice = who.voice + "+" + who.variant;
  if (espeak_SetVoiceByName(voice.c_str()) != EE_OK) throw std::runtime_error("espeak-ng has no voice " + voice);
  espeak_SetParameter(espeakRATE, who.rate, 0);
  espeak_SetParameter(espeakPITCH, who.pitch, 0);
  Capture cap;
  g_capture = &cap;
  espeak_ERROR err = espeak_Synth(text.c_str(), text.size() + 1, 0, POS_CHARACTER, 0, espeakCHARS_AUTO, nullptr, nullptr);
  espeak_Synchronize();
  g_capture = nullptr;
  if (err != EE_OK) throw std::runtime_error("espeak-ng failed on: " + text);
  std::vector<float> x(cap.pcm.size());
  for (size_t i = 0; i < x.size(); ++i) x[i] = cap.pcm[i] / 32768.0f;
  Spoken out;
  out.audio = resample(x, rate_, kSampleRate);
  // Dither: espeak's pauses are runs of exact zeros, whose log energy would be the floor; add
  // triangular noise of +-1 int16 step (inaudible, ~-96 dB).
  Rng rng(dither_seed);
  for (float& v : out.audio) v += (rng.uniform() - rng.uniform()) / 32768.0f;
  std::vector<double> wt, pt;
  for (double ms : cap.word_ms) wt.push_back(ms / 1000.0);
  for (double ms : cap.pause_ms) pt.push_back(ms / 1000.0);
  out.spans = grapheme_spans(text, cap.word_pos, wt, pt, double(out.audio.size()) / kSampleRate);
  return out;
}

std::string join_contractions(const std::string& s) {
  std::istringstream in(s);
  std::string w, out;
  while (in >> w) {
    bool clitic = w == "n't" || w == "'s" || w == "'re" || w == "'ve" || w == "'ll" || w == "'d" || w == "'m" || w == "'";
    if (clitic && !out.empty()) {
      out += w;
    } else {
      if (!out.empty()) out += ' ';
      out += w;
    }
  }
  return out;
}

namespace {

struct Item {
  int split;  // 0 train, 1 valid, 2 test
  std::string id, text;
  Speaker speaker;
  uint64_t seed;
};
const char* kSplits[3] = {"train", "valid", "test"};

struct Shared {  // counters the workers share with the parent (an anonymous shared mapping)
  std::atomic<int> done;
  std::atomic<int64_t> audio_ms;
};

std::string wav_path(const std::string& out, const Item& it) {
  return (fs::path(out) / kSplits[it.split] / "wav" / (it.id + ".wav")).string();
}
std::string lab_path(const std::string& out, const Item& it) {
  return (fs::path(out) / kSplits[it.split] / "wav" / (it.id + ".lab")).string();
}

void worker(const std::string& out, const std::vector<Item>& items, int k, int jobs, Shared* sh) {
  Synthesizer synth;
  for (size_t i = k; i < items.size(); i += jobs) {
    const Item& it = items[i];
    if (file_exists(lab_path(out, it))) continue;
    Spoken s = synth.speak(it.text, it.speaker, it.seed);
    write_wav16(wav_path(out, it), s.audio);
    std::string lab = it.text + "\n";
    char b[32];
    for (float t : s.spans) std::snprintf(b, sizeof b, "%.4f ", t), lab += b;
    lab += "\n";
    write_text_atomically(lab_path(out, it), lab);  // last: its presence means the utterance is done
    sh->done++;
    sh->audio_ms += (int64_t)(s.audio.size() * 1000 / kSampleRate);
  }
}

std::string settings_of(const SynthOptions& o, const int n[3]) {
  std::ostringstream s;
  s << "corpus=" << o.corpus << " train=" << n[0] << " valid=" << n[1] << " test=" << n[2]
    << " max_symbols=" << o.max_symbols << " seed=" << o.seed << "\n";
  return s.str();
}

}  // namespace

SynthReport synthesize_corpus(const SynthOptions& opt) {
  SynthReport rep;
  if (opt.out.empty()) throw std::invalid_argument("synth needs --out");
  Corpus c = load_corpus(opt.corpus);
  int want[3] = {opt.train, opt.valid, opt.test};
  if (opt.max_utterances > 0) {
    int total = want[0] + want[1] + want[2];
    if (opt.max_utterances < total) {
      want[1] = std::max(1, (int)std::lround((double)opt.valid * opt.max_utterances / total));
      want[2] = std::max(1, (int)std::lround((double)opt.test * opt.max_utterances / total));
      want[0] = std::max(1, opt.max_utterances - want[1] - want[2]);
    }
  }
  SpeakerSplit speakers = speaker_split(opt.seed);
  const std::vector<Speaker>* who[3] = {&speakers.train, &speakers.valid, &speakers.test};
  std::vector<Item> items;
  for (int s = 0; s < 3; ++s) {
    std::vector<std::string> usable;
    for (const Segment& seg : c.split(kSplits[s])) {
      if (std::count(seg.begin(), seg.end(), kUnk) || std::count(seg.begin(), seg.end(), symbol_of_char('#'))) continue;
      std::string text = join_contractions(to_text(seg));
      if (text.empty() || (int)text.size() > opt.max_symbols) continue;
      usable.push_back(text);
    }
    rep.candidates[s] = (int)usable.size();
    Rng rng(opt.seed * 1000003 + s);
    shuffle(usable, rng);
    if (want[s] > (int)usable.size())
      throw std::invalid_argument("corpus " + opt.corpus + " has only " + std::to_string(usable.size()) + " usable " +
                                  kSplits[s] + " sentences (asked for " + std::to_string(want[s]) + ")");
    for (int i = 0; i < want[s]; ++i) {
      Item it;
      it.split = s;
      it.text = usable[i];
      it.speaker = (*who[s])[rng.below(who[s]->size())];
      char id[32];
      std::snprintf(id, sizeof id, "-%s%05d", kSplits[s], i);
      it.id = it.speaker.name() + id;
      it.seed = opt.seed * 7777777 + (uint64_t)items.size();
      items.push_back(it);
    }
  }
  // The settings a resumed run must share.
  std::string settings = settings_of(opt, want), settings_path = (fs::path(opt.out) / "synth.settings").string();
  for (int s = 0; s < 3; ++s) make_dirs((fs::path(opt.out) / kSplits[s] / "wav").string());
  if (file_exists(settings_path) && read_file(settings_path) != settings)
    throw FileError(settings_path, "this folder holds a synthesis with other settings (" + read_file(settings_path).substr(0, read_file(settings_path).size() - 1) + "); use another --out");
  write_text_atomically(settings_path, settings);
  std::string spk = "speaker\tvoice\tvariant\trate\tpitch\tsplit\n";
  for (int s = 0; s < 3; ++s)
    for (const Speaker& p : *who[s])
      spk += p.name() + "\t" + p.voice + "\t" + p.variant + "\t" + std::to_string(p.rate) + "\t" + std::to_string(p.pitch) + "\t" + kSplits[s] + "\n";
  write_text_atomically((fs::path(opt.out) / "speakers.tsv").string(), spk);

  int already = 0;
  for (const Item& it : items) already += file_exists(lab_path(opt.out, it));
  int jobs = opt.jobs > 0 ? opt.jobs : (int)std::max(1u, std::thread::hardware_concurrency());
  jobs = std::max(1, std::min<int>(jobs, (int)items.size() - already));
  auto* sh = static_cast<Shared*>(mmap(nullptr, sizeof(Shared), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0));
  if (sh == MAP_FAILED) throw std::runtime_error("mmap failed");
  new (sh) Shared{};
  auto t0 = std::chrono::steady_clock::now();
  auto since = [&] { return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count(); };
  std::fprintf(stderr, "synth  %zu utterances (%d/%d/%d), %d already spoken, %d worker processes\n", items.size(), want[0],
               want[1], want[2], already, already == (int)items.size() ? 0 : jobs);
  std::vector<pid_t> pids;
  if (already < (int)items.size()) {
    std::fflush(nullptr);
    const pid_t parent = getpid();
    for (int k = 0; k < jobs; ++k) {
      pid_t p = fork();
      if (p < 0) throw std::runtime_error("fork failed");
      if (p == 0) {
        // A worker ends with its parent (memsig stopped by kill, not only by Ctrl-C to the group).
        prctl(PR_SET_PDEATHSIG, SIGTERM);
        if (getppid() != parent) _exit(1);
        int code = 0;
        try {
          worker(opt.out, items, k, jobs, sh);
        } catch (const std::exception& e) {
          std::fprintf(stderr, "memsig: error: %s\n", e.what());
          code = 1;
        }
        std::fflush(nullptr);
        _exit(code);
      }
      pids.push_back(p);
    }
  }
  double last = 0;
  bool failed = false;
  size_t running = pids.size();
  while (running > 0) {
    int status = 0;
    pid_t p = waitpid(-1, &status, WNOHANG);
    if (p > 0) {
      --running;
      if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        failed = true;
        for (pid_t q : pids) kill(q, SIGTERM);
      }
      continue;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    if (since() - last >= 10) {
      last = since();
      int d = sh->done.load();
      double audio = sh->audio_ms.load() / 1000.0;
      int left = (int)items.size() - already - d;
      std::fprintf(stderr, "synth  %d/%zu utterances  %.1f x real time  elapsed %.0f s  ETA %.0f s\n", already + d,
                   items.size(), audio / last, last, d > 0 ? left * last / d : 0.0);
    }
  }
  rep.spoken_now = sh->done.load();
  munmap(sh, sizeof(Shared));
  if (failed) throw std::runtime_error("synthesis failed (see the worker's message above); run again to resume");
  struct rusage ru {};
  getrusage(RUSAGE_CHILDREN, &ru);
  rep.synth_cpu_seconds = ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
  rep.wall_seconds = since();

  // Assemble the three data directories from the finished utterances.
  for (int s = 0; s < 3; ++s) {
    std::vector<Utterance> utts;
    for (const Item& it : items) {
      if (it.split != s) continue;
      std::string lab = read_file(lab_path(opt.out, it));
      std::istringstream in(lab);
      std::string text, times;
      std::getline(in, text);
      std::getline(in, times);
      Utterance u;
      u.id = it.id;
      u.speaker = it.speaker.name();
      u.path = wav_path(opt.out, it);
      u.text = normalize(text);
      std::istringstream ts(times);
      float t;
      while (ts >> t) u.spans.push_back(t);
      if (u.spans.size() != 2 * u.text.size()) throw FileError(lab_path(opt.out, it), "damaged timing file; remove it to speak again");
      AudioInfo info = audio_info(u.path);
      rep.audio_seconds += info.seconds();
      utts.push_back(std::move(u));
    }
    write_data_dir((fs::path(opt.out) / kSplits[s]).string(), utts);
  }
  rep.utterances = (int)items.size();
  return rep;
}

}  // namespace memsig
