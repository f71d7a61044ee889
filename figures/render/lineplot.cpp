#include "figures/render/lineplot.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace memsig {

namespace {

const Rgb kAxis{60, 60, 60};

std::string tick_label(double v) {
  char buf[32];
  if (std::abs(v) >= 100 || v == std::round(v)) std::snprintf(buf, sizeof buf, "%g", v);
  else std::snprintf(buf, sizeof buf, "%.2f", v);
  return buf;
}

// About n "nice" tick values (1, 2, 5 x 10^k steps) covering [lo, hi].
std::vector<double> nice_ticks(double lo, double hi, int n) {
  double span = hi - lo, step = std::pow(10.0, std::floor(std::log10(span / n)));
  for (double m : {1.0, 2.0, 5.0, 10.0})
    if (span / (step * m) <= n) { step *= m; break; }
  std::vector<double> t;
  for (double v = std::ceil(lo / step) * step; v <= hi + 1e-9 * span; v += step) t.push_back(std::abs(v) < 1e-12 ? 0 : v);
  return t;
}

// A line of thickness ~2 px from (x0, y0) to (x1, y1); dashed: 6 px on, 4 off.
void line(Canvas& c, double x0, double y0, double x1, double y1, Rgb col, bool dashed) {
  double len = std::hypot(x1 - x0, y1 - y0);
  int steps = std::max(1, (int)std::ceil(len));
  for (int i = 0; i <= steps; ++i) {
    if (dashed && (i % 10) >= 6) continue;
    double t = (double)i / steps;
    c.fill_rect((int)std::lround(x0 + t * (x1 - x0)) - 1, (int)std::lround(y0 + t * (y1 - y0)) - 1, 2, 2, col);
  }
}

}  // namespace

Rgb series_color(size_t i) {
  static const Rgb p[] = {{27, 158, 119}, {217, 95, 2}, {117, 112, 179}, {231, 41, 138},
                          {102, 166, 30}, {230, 171, 2}, {166, 118, 29}, {102, 102, 102}};
  return p[i % 8];
}

Canvas draw_lineplot(const LinePlot& p) {
  const float title_px = 17, label_px = 14, tick_px = 12;
  const int left = 70, top = 40, bottom = 55;
  const int W = p.width - left - 190, H = p.height - top - bottom;  // the legend sits on the right:
  int legend = 0;                                                   // 190 px, or what its longest name needs
  for (auto& s : p.series) legend = std::max(legend, 46 + Canvas::text_width(s.name, tick_px) + 12);
  Canvas c(left + W + std::max(190, legend), p.height);
  double xlo = INFINITY, xhi = -INFINITY, ylo = INFINITY, yhi = -INFINITY;
  auto fx = [&](double x) { return p.log_x ? std::log10(x) : x; };
  for (auto& s : p.series)
    for (size_t i = 0; i < s.x.size(); ++i) {
      if (std::isnan(s.y[i])) continue;
      xlo = std::min(xlo, fx(s.x[i])); xhi = std::max(xhi, fx(s.x[i]));
      ylo = std::min(ylo, s.y[i]); yhi = std::max(yhi, s.y[i]);
    }
  if (!std::isfinite(xlo)) { xlo = 0; xhi = 1; ylo = 0; yhi = 1; }
  if (!std::isnan(p.y_min)) ylo = p.y_min;
  if (!std::isnan(p.y_max)) yhi = p.y_max;
  if (xhi - xlo < 1e-12) { xlo -= 0.5; xhi += 0.5; }
  if (yhi - ylo < 1e-12) { ylo -= 0.5; yhi += 0.5; }
  double pad = 0.05 * (yhi - ylo);
  if (std::isnan(p.y_min)) ylo -= pad;
  if (std::isnan(p.y_max)) yhi += pad;
  auto px = [&](double x) { return left + (fx(x) - xlo) / (xhi - xlo) * W; };
  auto py = [&](double y) { return top + H - (y - ylo) / (yhi - ylo) * H; };

  c.text(p.title, left, 10, title_px, kBlack);
  for (double t : nice_ticks(ylo, yhi, 6)) {
    c.fill_rect(left, (int)py(t), W, 1, kLightGrey);
    c.text(tick_label(t), left - 6, py(t), tick_px, kAxis, 1.0, 0.5);
  }
  std::vector<double> xt;
  if (p.log_x) {
    for (auto& s : p.series) xt.insert(xt.end(), s.x.begin(), s.x.end());  // the data's own x values
    std::sort(xt.begin(), xt.end());
    xt.erase(std::unique(xt.begin(), xt.end()), xt.end());
  } else {
    xt = nice_ticks(xlo, xhi, 8);
  }
  for (double t : xt) {
    c.fill_rect((int)px(t), top + H, 1, 5, kAxis);
    c.text(tick_label(t), px(t), top + H + 7, tick_px, kAxis, 0.5, 0);
  }
  c.outline_rect(left, top, W + 1, H + 1, kAxis);
  c.text(p.x_title, left + W / 2.0, p.height - 8, label_px, kAxis, 0.5, 1.0);
  c.text(p.y_title, 14, top + H / 2.0, label_px, kAxis, 0.5, 0.5, true);

  for (size_t k = 0; k < p.series.size(); ++k) {
    const Series& s = p.series[k];
    Rgb col = series_color(k);
    for (size_t i = 0; i + 1 < s.x.size(); ++i)
      if (!std::isnan(s.y[i]) && !std::isnan(s.y[i + 1])) line(c, px(s.x[i]), py(s.y[i]), px(s.x[i + 1]), py(s.y[i + 1]), col, s.dashed);
    for (size_t i = 0; i < s.x.size(); ++i)
      if (!std::isnan(s.y[i])) c.fill_rect((int)px(s.x[i]) - 3, (int)py(s.y[i]) - 3, 7, 7, col);
    int ly = top + 8 + (int)k * 20;  // legend
    line(c, left + W + 14, ly, left + W + 40, ly, col, s.dashed);
    c.text(s.name, left + W + 46, ly, tick_px, kBlack, 0, 0.5);
  }
  return c;
}

}  // namespace memsig
