// synth.h — speech synthesized from text through the espeak-ng C API (GPL-3: compiled only with the
// build option MEMSIG_ESPEAK), with the time span of every grapheme.
//
// A speaker is an espeak voice (accent) x variant (voice quality) x rate (words per minute) x pitch
// (0-100). espeak-ng is not thread-safe: a process holds one Synthesizer (synthesize_corpus() forks
// worker processes).
//
// Grapheme timing, from espeak's events (espeakEVENT_WORD and the pause phonemes among the
// espeakEVENT_PHONEME events, whose names start with '_'):
//   * a word is a run of non-blank characters holding a letter that espeak announced with a WORD
//     event; the event's text position may point at the blank before the word (after "mr."): it is
//     matched to the first word that ends after it;
//   * the word is spoken from its event's time to the next word's event, or to the first pause
//     phoneme after its start when one comes sooner (a comma's or the sentence's final pause);
//   * inside a word, its characters from the first letter to the last (letters and the ' or . between
//     them) share the word's time equally, in order (espeak's phonemes do not map one-to-one onto
//     letters: "th", silent "e", "u.s." spelled out);
//   * the rest (blanks, punctuation before or after a word, runs espeak did not announce) share the
//     gap in which they stand equally: between the end of one word and the start of the next (a
//     pause, or nothing when the words run together: zero-length spans), from the start of the audio
//     to the first word, from the end of the last word to the end of the audio.
// So the spans cover the audio from the first word's start to its end without overlap.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "corpora/symbols.h"

namespace memsig {

struct Speaker {
  std::string voice, variant;  // espeak voice ("en-us") and variant ("f3")
  int rate = 175, pitch = 50;
  std::string name() const;    // "en-us+f3-r175-p50", a valid Kaldi speaker id
};

// The speaker set: every voice x variant pair once, in a seeded order, with a seeded rate and
// pitch each; the first `test` pairs speak test, the next `valid` valid, the rest train, so the
// three sets share no voice x variant pair.
struct SpeakerSplit {
  std::vector<Speaker> train, valid, test;
};
SpeakerSplit speaker_split(uint64_t seed, int valid = 8, int test = 8);

struct Spoken {
  std::vector<float> audio;  // 16 kHz, in [-1, 1], dithered
  std::vector<float> spans;  // [2·text size]: start, end seconds of each symbol
};

// The grapheme-timing rule above, on its own (tested without espeak): `text` as spoken, word event
// positions (0-based character index) and times, pause times, audio length, all in seconds.
std::vector<float> grapheme_spans(const std::string& text, const std::vector<int>& word_pos,
                                  const std::vector<double>& word_time, const std::vector<double>& pause_time,
                                  double audio_seconds);

class Synthesizer {
 public:
  Synthesizer();  // espeak_Initialize; throws if espeak-ng's data cannot be found
  Spoken speak(const std::string& text, const Speaker& who, uint64_t dither_seed);
  int native_rate() const { return rate_; }  // 22,050 Hz

 private:
  int rate_ = 0;
};

// PTB's tokenisation splits contractions from their words ("did n't", "company 's"); speech reads
// them joined, as WSJ's own transcripts write them: "didn't", "company's". Also joins "'re 've 'll
// 'd 'm 's" and a lone "'".
std::string join_contractions(const std::string& normalised);

struct SynthOptions {
  std::string corpus = "ptb", out;
  int train = 3000, valid = 200, test = 200;  // utterances per split (the default set)
  int max_utterances = 0;                     // > 0: scale the three down to this many in all
  int max_symbols = 120;                      // longer sentences are not used
  int jobs = 0;                               // worker processes (0: the cores)
  uint64_t seed = 1;
};

// Writes OUT/{train,valid,test}/ (wav/*.wav, wav.scp, text, utt2spk, spk2utt, graphemes) and
// OUT/speakers.tsv; resumable (an utterance whose files exist is not spoken again); progress every
// 10 s. Sentences holding <unk> or a number ('#') are not used (how to speak them is unknowable).
struct SynthReport {
  int utterances = 0, spoken_now = 0;
  double audio_seconds = 0, wall_seconds = 0, synth_cpu_seconds = 0;
  int candidates[3] = {0, 0, 0};  // usable sentences per split
};
SynthReport synthesize_corpus(const SynthOptions& opt);

}  // namespace memsig
