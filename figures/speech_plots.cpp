#include "figures/speech_plots.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "figures/render/colormap.h"

namespace memsig {

Canvas spectrogram_with_graphemes(const Tensor& fbank, const Utterance& u, const std::vector<Interval>& silences,
                                  const std::string& title) {
  const int frames = (int)fbank.rows(), bins = (int)fbank.cols();
  const int px = 3, py = std::max(2, 240 / std::max(bins, 1));  // pixels per frame, per mel bin
  const int left = 70, right = 20, top = 40;
  const int spec_h = bins * py, letters_h = 44, sil_h = 16, axis_h = 40;
  const int W = left + frames * px + right, H = top + spec_h + letters_h + sil_h + axis_h;
  Canvas c(W, H);
  c.text(title, left, 10, 15, kBlack);
  // Spectrogram: the top 70 dB of the utterance (ln units: 70 dB = 16.1), white = quiet.
  float hi = -1e30f;
  for (float v : fbank.data) hi = std::max(hi, v);
  const float range = 16.1f;
  for (int t = 0; t < frames; ++t)
    for (int m = 0; m < bins; ++m) {
      double v = (fbank.data[(size_t)t * bins + m] - (hi - range)) / range;
      c.fill_rect(left + t * px, top + (bins - 1 - m) * py, px, py, sequential_color(std::clamp(v, 0.0, 1.0)));
    }
  c.outline_rect(left - 1, top - 1, frames * px + 2, spec_h + 2, kBlack);
  auto x_of = [&](double sec) { return left + (int)std::lround(sec * 100.0 * px); };  // 100 frames per second
  // Graphemes under their spans; words on alternating bands.
  const std::string text = to_text(u.text);
  const int ly = top + spec_h + 4;
  std::vector<Interval> words = word_spans(u);
  for (size_t w = 0; w < words.size(); ++w) {
    int x0 = x_of(words[w].start), x1 = x_of(words[w].end);
    c.fill_rect(x0, ly, std::max(1, x1 - x0), letters_h - 8, w % 2 ? Rgb{255, 236, 200} : Rgb{206, 230, 255});
    for (int y = top; y < top + spec_h; y += 2) c.fill_rect(x0, y, 1, 1, kBlack);  // dotted line at the word's start
  }
  if (u.spans.size() == 2 * u.text.size())
    for (size_t k = 0; k < text.size(); ++k) {
      double a = u.spans[2 * k], b = u.spans[2 * k + 1];
      std::string g = text[k] == ' ' ? "\xE2\x90\xA3" : std::string(1, text[k]);  // space shown as ␣
      if (b <= a) continue;                                                         // zero-length: not spoken
      int xa = x_of(a), xb = x_of(b);
      c.fill_rect(xa, ly + letters_h - 12, 1, 4, kGrey);  // the span's start
      c.text(g, (xa + xb) / 2.0, ly + 2 + (k % 2) * 14, 13, kBlack, 0.5, 0);  // letters alternate rows
    }
  // Silences found by energy.
  const int sy = ly + letters_h;
  c.text("silence", left - 6, sy + sil_h / 2.0, 11, kBlack, 1, 0.5);
  c.fill_rect(left, sy + 3, frames * px, sil_h - 6, kLightGrey);
  for (const Interval& s : silences) c.fill_rect(x_of(s.start), sy + 3, std::max(1, x_of(s.end) - x_of(s.start)), sil_h - 6, kBlack);
  c.text("graphemes", left - 6, ly + letters_h / 2.0, 11, kBlack, 1, 0.5);
  // Axes.
  c.text("mel bin", left - 40, top + spec_h / 2.0, 12, kBlack, 0.5, 0.5, true);
  for (int m = 0; m < bins; m += 20)
    c.text(std::to_string(m), left - 6, top + (bins - 1 - m) * py + py / 2.0, 11, kBlack, 1, 0.5);
  const int ay = sy + sil_h + 4;
  for (double s = 0; s * 100 <= frames; s += 0.5) {
    int x = x_of(s);
    c.fill_rect(x, ay, 1, 5, kBlack);
    char b[16];
    std::snprintf(b, sizeof b, "%.1f", s);
    c.text(b, x, ay + 6, 11, kBlack, 0.5, 0);
  }
  c.text("time (s)", left + frames * px / 2.0, ay + 22, 12, kBlack, 0.5, 0);
  return c;
}

}  // namespace memsig
