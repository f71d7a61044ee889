#include "figures/render/colormap.h"

#include <algorithm>
#include <cmath>

namespace memsig {

namespace {

Rgb hex(unsigned v) { return {(uint8_t)(v >> 16), (uint8_t)(v >> 8), (uint8_t)v}; }

Rgb interpolate(const std::vector<Rgb>& stops, double t) {
  t = std::clamp(t, 0.0, 1.0) * (stops.size() - 1);
  size_t i = std::min(stops.size() - 2, (size_t)t);
  double f = t - i;
  auto mix = [&](uint8_t a, uint8_t b) { return (uint8_t)std::lround(a + (b - a) * f); };
  return {mix(stops[i].r, stops[i + 1].r), mix(stops[i].g, stops[i + 1].g), mix(stops[i].b, stops[i + 1].b)};
}

}  // namespace

Rgb sequential_color(double t) {  // ColorBrewer "Purples"
  static const std::vector<Rgb> s{hex(0xfcfbfd), hex(0xefedf5), hex(0xdadaeb), hex(0xbcbddc), hex(0x9e9ac8),
                                  hex(0x807dba), hex(0x6a51a3), hex(0x54278f), hex(0x3f007d)};
  return interpolate(s, t);
}

Rgb diverging_color(double t) {  // ColorBrewer "RdBu", reversed: blue negative, red positive
  static const std::vector<Rgb> s{hex(0x2166ac), hex(0x4393c3), hex(0x92c5de), hex(0xd1e5f0), hex(0xf7f7f7),
                                  hex(0xfddbc7), hex(0xf4a582), hex(0xd6604d), hex(0xb2182b)};
  return interpolate(s, (std::clamp(t, -1.0, 1.0) + 1.0) / 2.0);
}

}  // namespace memsig
