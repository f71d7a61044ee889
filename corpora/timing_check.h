// timing_check.h — does the grapheme timing agree with the audio? Silences found by energy should
// fall between words, not inside them.
//
//   frame energy: 10 ms non-overlapping frames, 10·log10(mean x²), relative to the loudest frame;
//   a silence: a run of frames at least `floor_db` (40 dB) below the loudest, lasting >= `min_ms`
//   (60 ms; shorter silent runs are mostly the closures of stops, k p t, which lie inside words: at
//   40 ms they are most of what is found);
//   a word: a run of letters (with ' and . between them) of the transcript; its span from its first
//   letter's start to its last letter's end (the graphemes file);
//   a silence is *between* words when it overlaps no word's span by more than `tolerance_ms` (30 ms:
//   espeak reports times in ms, and energy edges are soft); *at a word's edge* when it overlaps a
//   word by more but reaches to within the tolerance of the word's start or end (the boundary is then
//   off by the overlap: `max_edge_ms` keeps the largest); *inside* a word when it lies in the word
//   more than the tolerance away from both of its ends (a pause in the middle of a word: the timing
//   would be wrong there).
#pragma once
#include <string>
#include <vector>

#include "corpora/speech_data.h"

namespace memsig {

struct Interval {
  double start, end;  // seconds
};

std::vector<Interval> energy_silences(const std::vector<float>& audio, int rate, double floor_db = 40, double min_ms = 60);
std::vector<Interval> word_spans(const Utterance& u);  // needs u.spans

struct TimingCheck {
  int silences = 0, between = 0, edge = 0, inside = 0;  // silences; of them between words, at a word's edge, inside
  double max_edge_ms = 0;                               // the largest overlap of an edge silence with its word
  std::vector<std::string> problems;  // "silence 1.23-1.40 s inside word 3 (1.10-1.50 s)", also for edges
};
TimingCheck check_timing(const Utterance& u, const std::vector<float>& audio, int rate, double tolerance_ms = 30,
                         double min_ms = 60);

}  // namespace memsig
