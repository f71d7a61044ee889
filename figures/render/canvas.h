// canvas.h — an RGB pixel canvas with anti-aliased text (stb_truetype, a system TrueType font)
// written straight to PNG (stb_image_write). Enough to draw labelled heatmaps; no plotting program.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace memsig {

struct Rgb {
  uint8_t r = 0, g = 0, b = 0;
};
constexpr Rgb kWhite{255, 255, 255}, kBlack{0, 0, 0}, kGrey{150, 150, 150}, kLightGrey{225, 225, 225};

class Canvas {
 public:
  Canvas(int width, int height, Rgb background = kWhite);
  int width() const { return w_; }
  int height() const { return h_; }

  void fill_rect(int x, int y, int w, int h, Rgb c);
  void outline_rect(int x, int y, int w, int h, Rgb c);
  // Text at (x, y): ax/ay anchor the text box (0 = left/top, 0.5 = centre, 1 = right/bottom).
  // vertical = rotated 90 degrees counter-clockwise (reads bottom to top), for y-axis titles.
  void text(const std::string& utf8, double x, double y, float px, Rgb c, double ax = 0, double ay = 0,
            bool vertical = false);
  static int text_width(const std::string& utf8, float px);
  void paste(const Canvas& src, int x, int y);
  void save_png(const std::string& path) const;  // atomic; FileError on failure

 private:
  int w_, h_;
  std::vector<uint8_t> pix_;
  void blend(int x, int y, Rgb c, uint8_t alpha);
};

// The font used for all text: $MEMSIG_FONT, else DejaVu Sans (Debian: fonts-dejavu-core).
std::string font_path();

}  // namespace memsig
