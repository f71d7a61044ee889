#include "figures/render/canvas.h"

#include <cmath>
#include <cstdlib>
#include <memory>

#include "engine/files.h"

#define STB_TRUETYPE_IMPLEMENTATION
#include <stb/stb_truetype.h>
#define STB_IMAGE_WRITE_IMPLEMENTATION
#include <stb/stb_image_write.h>

namespace memsig {

namespace {

struct Font {
  std::string bytes;
  stbtt_fontinfo info;
};

const Font& font() {
  static std::unique_ptr<Font> f = [] {
    auto f = std::make_unique<Font>();
    std::string path = font_path();
    f->bytes = read_file(path);
    if (!stbtt_InitFont(&f->info, (const unsigned char*)f->bytes.data(), stbtt_GetFontOffsetForIndex((const unsigned char*)f->bytes.data(), 0)))
      throw FileError(path, "not a TrueType font");
    return f;
  }();
  return *f;
}

std::vector<int> decode_utf8(const std::string& s) {
  std::vector<int> out;
  for (size_t i = 0; i < s.size();) {
    unsigned char c = s[i];
    int cp, len;
    if (c < 0x80) { cp = c; len = 1; }
    else if ((c >> 5) == 6) { cp = c & 0x1f; len = 2; }
    else if ((c >> 4) == 14) { cp = c & 0x0f; len = 3; }
    else { cp = c & 0x07; len = 4; }
    for (int k = 1; k < len && i + k < s.size(); ++k) cp = (cp << 6) | (s[i + k] & 0x3f);
    out.push_back(cp);
    i += len;
  }
  return out;
}

// Renders a line of text into an 8-bit coverage mask; returns its width and height.
struct Mask {
  int w = 0, h = 0;
  std::vector<uint8_t> a;
};

Mask render(const std::string& utf8, float px) {
  const Font& f = font();
  float scale = stbtt_ScaleForPixelHeight(&f.info, px);
  int ascent, descent, gap;
  stbtt_GetFontVMetrics(&f.info, &ascent, &descent, &gap);
  auto cps = decode_utf8(utf8);
  double x = 0;
  std::vector<double> xs;
  for (size_t i = 0; i < cps.size(); ++i) {
    int adv, lsb;
    stbtt_GetCodepointHMetrics(&f.info, cps[i], &adv, &lsb);
    xs.push_back(x);
    x += adv * scale;
    if (i + 1 < cps.size()) x += scale * stbtt_GetCodepointKernAdvance(&f.info, cps[i], cps[i + 1]);
  }
  Mask m;
  m.w = (int)std::ceil(x) + 2;
  m.h = (int)std::ceil((ascent - descent) * scale) + 1;
  m.a.assign((size_t)m.w * m.h, 0);
  int baseline = (int)std::round(ascent * scale);
  for (size_t i = 0; i < cps.size(); ++i) {
    int x0, y0, x1, y1;
    float shift = (float)(xs[i] - std::floor(xs[i]));
    stbtt_GetCodepointBitmapBoxSubpixel(&f.info, cps[i], scale, scale, shift, 0, &x0, &y0, &x1, &y1);
    int gw = x1 - x0, gh = y1 - y0;
    if (gw <= 0 || gh <= 0) continue;
    std::vector<uint8_t> g((size_t)gw * gh);
    stbtt_MakeCodepointBitmapSubpixel(&f.info, g.data(), gw, gh, gw, scale, scale, shift, 0, cps[i]);
    int ox = (int)std::floor(xs[i]) + x0, oy = baseline + y0;
    for (int yy = 0; yy < gh; ++yy)
      for (int xx = 0; xx < gw; ++xx) {
        int X = ox + xx, Y = oy + yy;
        if (X < 0 || Y < 0 || X >= m.w || Y >= m.h) continue;
        uint8_t& dst = m.a[(size_t)Y * m.w + X];
        dst = (uint8_t)std::min(255, dst + g[(size_t)yy * gw + xx]);
      }
  }
  return m;
}

}  // namespace

std::string font_path() {
  if (const char* env = std::getenv("MEMSIG_FONT"); env && *env) return env;
  return "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf";
}

Canvas::Canvas(int width, int height, Rgb bg) : w_(width), h_(height), pix_((size_t)width * height * 3) {
  for (size_t i = 0; i < pix_.size(); i += 3) { pix_[i] = bg.r; pix_[i + 1] = bg.g; pix_[i + 2] = bg.b; }
}

void Canvas::blend(int x, int y, Rgb c, uint8_t alpha) {
  if (x < 0 || y < 0 || x >= w_ || y >= h_ || alpha == 0) return;
  uint8_t* p = &pix_[((size_t)y * w_ + x) * 3];
  int a = alpha;
  p[0] = (uint8_t)((c.r * a + p[0] * (255 - a)) / 255);
  p[1] = (uint8_t)((c.g * a + p[1] * (255 - a)) / 255);
  p[2] = (uint8_t)((c.b * a + p[2] * (255 - a)) / 255);
}

void Canvas::fill_rect(int x, int y, int w, int h, Rgb c) {
  for (int yy = std::max(0, y); yy < std::min(h_, y + h); ++yy)
    for (int xx = std::max(0, x); xx < std::min(w_, x + w); ++xx) blend(xx, yy, c, 255);
}

void Canvas::outline_rect(int x, int y, int w, int h, Rgb c) {
  fill_rect(x, y, w, 1, c);
  fill_rect(x, y + h - 1, w, 1, c);
  fill_rect(x, y, 1, h, c);
  fill_rect(x + w - 1, y, 1, h, c);
}

int Canvas::text_width(const std::string& utf8, float px) { return render(utf8, px).w; }

void Canvas::text(const std::string& utf8, double x, double y, float px, Rgb c, double ax, double ay, bool vertical) {
  Mask m = render(utf8, px);
  int bw = vertical ? m.h : m.w, bh = vertical ? m.w : m.h;
  int ox = (int)std::round(x - ax * bw), oy = (int)std::round(y - ay * bh);
  for (int yy = 0; yy < m.h; ++yy)
    for (int xx = 0; xx < m.w; ++xx) {
      uint8_t a = m.a[(size_t)yy * m.w + xx];
      if (!a) continue;
      if (vertical) blend(ox + yy, oy + (m.w - 1 - xx), c, a);  // rotate 90 degrees counter-clockwise
      else blend(ox + xx, oy + yy, c, a);
    }
}

void Canvas::paste(const Canvas& src, int x, int y) {
  for (int yy = 0; yy < src.h_; ++yy)
    for (int xx = 0; xx < src.w_; ++xx) {
      const uint8_t* p = &src.pix_[((size_t)yy * src.w_ + xx) * 3];
      blend(x + xx, y + yy, {p[0], p[1], p[2]}, 255);
    }
}

void Canvas::save_png(const std::string& path) const {
  write_atomically(path, [&](const std::string& tmp) {
    if (!stbi_write_png(tmp.c_str(), w_, h_, 3, pix_.data(), w_ * 3)) throw FileError(path, "cannot write PNG");
  });
}

}  // namespace memsig
