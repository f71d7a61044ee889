#include "corpora/timing_check.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace memsig {

std::vector<Interval> energy_silences(const std::vector<float>& audio, int rate, double floor_db, double min_ms) {
  const int hop = rate / 100;
  const int frames = (int)(audio.size() / hop);
  std::vector<double> db(frames);
  double loudest = -1e9;
  for (int t = 0; t < frames; ++t) {
    double e = 0;
    for (int i = 0; i < hop; ++i) e += (double)audio[(size_t)t * hop + i] * audio[(size_t)t * hop + i];
    db[t] = 10 * std::log10(e / hop + 1e-20);
    loudest = std::max(loudest, db[t]);
  }
  std::vector<Interval> out;
  for (int t = 0; t < frames;) {
    if (db[t] >= loudest - floor_db) { ++t; continue; }
    int u = t;
    while (u < frames && db[u] < loudest - floor_db) ++u;
    if ((u - t) * 10.0 >= min_ms) out.push_back({t / 100.0, u / 100.0});
    t = u;
  }
  return out;
}

std::vector<Interval> word_spans(const Utterance& u) {
  std::vector<Interval> out;
  if (u.spans.size() != 2 * u.text.size()) return out;
  const std::string text = to_text(u.text);
  auto letter = [](char c) { return c >= 'a' && c <= 'z'; };
  for (size_t i = 0; i < text.size();) {
    if (text[i] == ' ') { ++i; continue; }
    size_t j = i;
    while (j < text.size() && text[j] != ' ') ++j;
    int f = -1, l = -1;
    for (size_t k = i; k < j; ++k)
      if (letter(text[k])) { if (f < 0) f = (int)k; l = (int)k; }
    if (f >= 0) out.push_back({u.spans[2 * f], u.spans[2 * l + 1]});
    i = j;
  }
  return out;
}

TimingCheck check_timing(const Utterance& u, const std::vector<float>& audio, int rate, double tolerance_ms, double min_ms) {
  TimingCheck c;
  std::vector<Interval> words = word_spans(u);
  const std::string text = to_text(u.text);
  const double tol = tolerance_ms / 1000;
  for (const Interval& s : energy_silences(audio, rate, 40, min_ms)) {
    ++c.silences;
    int kind = 0;  // 0 between, 1 at an edge, 2 inside
    for (size_t w = 0; w < words.size(); ++w) {
      double overlap = std::min(s.end, words[w].end) - std::max(s.start, words[w].start);
      if (overlap <= tol) continue;
      bool at_edge = s.start <= words[w].start + tol || s.end >= words[w].end - tol;
      kind = std::max(kind, at_edge ? 1 : 2);
      if (at_edge) c.max_edge_ms = std::max(c.max_edge_ms, overlap * 1000);
      char b[200];
      std::snprintf(b, sizeof b, "silence %.2f-%.2f s %s word %zu (%.2f-%.2f s)", s.start, s.end,
                    at_edge ? "at the edge of" : "inside", w + 1, words[w].start, words[w].end);
      c.problems.push_back(b);
    }
    (kind == 0 ? c.between : kind == 1 ? c.edge : c.inside)++;
  }
  return c;
}

}  // namespace memsig
