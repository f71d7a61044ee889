#include "figures/render/heatmap.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace memsig {

namespace {

double luminance(Rgb c) { return 0.299 * c.r + 0.587 * c.g + 0.114 * c.b; }

std::string fmt(double v, const char* f) {
  char buf[32];
  std::snprintf(buf, sizeof buf, f, v);
  return buf;
}

const Rgb kAxis{60, 60, 60};

}  // namespace

Canvas draw_heatmap(const Heatmap& h) {
  const float label_px = 14, tick_px = 12, title_px = 17, value_px = 9;
  const int R = (int)h.rows.size(), C = (int)h.cols.size();
  int row_label_w = 0, col_label_h = 0;
  for (auto& r : h.rows) row_label_w = std::max(row_label_w, Canvas::text_width(r, tick_px));
  // A column label wider than its cell is written vertically; the others stay horizontal.
  auto rotated = [&](const std::string& c) { return Canvas::text_width(c, tick_px) > h.cell_w - 2; };
  for (auto& c : h.cols) col_label_h = std::max(col_label_h, rotated(c) ? Canvas::text_width(c, tick_px) : (int)(tick_px * 1.3));
  const int pad = 10;
  const int left = std::max(h.min_left, pad + (h.y_title.empty() ? 0 : (int)(label_px * 1.4) + 4) + row_label_w + 6);
  const int top = pad + (h.title.empty() ? 0 : (int)(title_px * 1.6));
  const int grid_w = C * h.cell_w, grid_h = R * h.cell_h;
  const int bar_x = left + grid_w + 16, bar_w = 16, bar_h = std::max(grid_h, 60);
  const std::string lo_tick = h.diverging ? fmt(-h.vmax, "%+.2f") : fmt(h.vmin, "%.2f");
  const int tick_w = Canvas::text_width(lo_tick, tick_px);
  const int bar_title_x = bar_x + bar_w + 7 + tick_w + 4;
  const int bar_right = bar_title_x + (h.colorbar_title.empty() ? 0 : (int)(label_px * 1.4));
  const int width = std::max(bar_right + pad, left + Canvas::text_width(h.title, title_px) + pad);
  const int below_grid = 6 + col_label_h + (h.x_title.empty() ? 0 : (int)(label_px * 1.6));
  const int height = top + std::max(grid_h + below_grid, bar_h + 8) + pad;
  Canvas cv(width, height);

  if (!h.title.empty()) cv.text(h.title, left, pad, title_px, kBlack);
  for (int r = 0; r < R; ++r) {
    for (int c = 0; c < C; ++c) {
      double v = h.values[(size_t)r * C + c];
      int x = left + c * h.cell_w, y = top + r * h.cell_h;
      if (std::isnan(v)) {
        cv.fill_rect(x, y, h.cell_w, h.cell_h, kLightGrey);
        continue;
      }
      Rgb col = h.diverging ? diverging_color(v / (h.vmax > 0 ? h.vmax : 1))
                            : sequential_color((v - h.vmin) / (h.vmax > h.vmin ? h.vmax - h.vmin : 1));
      cv.fill_rect(x, y, h.cell_w, h.cell_h, col);
      if (!h.marks.empty() && h.marks[(size_t)r * C + c])
        cv.fill_rect(x + h.cell_w / 2 - 2, y + h.cell_h / 2 - 2, 4, 4, luminance(col) < 120 ? kWhite : Rgb{70, 70, 70});
      if (h.annotate) {
        std::string s = fmt(v, "%.2f");
        if (s.rfind("0.", 0) == 0) s = s.substr(1);
        else if (s.rfind("-0.", 0) == 0) s = "-" + s.substr(2);
        cv.text(s, x + h.cell_w / 2.0, y + h.cell_h / 2.0, value_px, luminance(col) < 120 ? kWhite : kBlack, 0.5, 0.5);
      }
    }
    cv.text(h.rows[r], left - 6, top + r * h.cell_h + h.cell_h / 2.0, tick_px, kAxis, 1.0, 0.5);
  }
  cv.outline_rect(left - 1, top - 1, grid_w + 2, grid_h + 2, kGrey);
  for (int c = 0; c < C; ++c) {
    double cx = left + c * h.cell_w + h.cell_w / 2.0;
    if (rotated(h.cols[c])) cv.text(h.cols[c], cx, top + grid_h + 5, tick_px, kAxis, 0.5, 0.0, true);
    else cv.text(h.cols[c], cx, top + grid_h + 4, tick_px, kAxis, 0.5, 0.0);
  }
  if (!h.x_title.empty()) cv.text(h.x_title, left + grid_w / 2.0, top + grid_h + 6 + col_label_h + 4, label_px, kBlack, 0.5, 0.0);
  if (!h.y_title.empty()) cv.text(h.y_title, pad, top + grid_h / 2.0, label_px, kBlack, 0.0, 0.5, true);

  // Colour bar: top = vmax, bottom = vmin (or -vmax for the diverging map), five ticks.
  for (int y = 0; y < bar_h; ++y) {
    double f = 1.0 - (double)y / (bar_h - 1);
    Rgb col = h.diverging ? diverging_color(2 * f - 1) : sequential_color(f);
    cv.fill_rect(bar_x, top + y, bar_w, 1, col);
  }
  cv.outline_rect(bar_x - 1, top - 1, bar_w + 2, bar_h + 2, kGrey);
  for (int k = 0; k <= 4; ++k) {
    double f = k / 4.0;
    double v = h.diverging ? -h.vmax + 2 * h.vmax * f : h.vmin + (h.vmax - h.vmin) * f;
    int y = top + (int)std::lround((1.0 - f) * (bar_h - 1));
    cv.fill_rect(bar_x + bar_w, y, 4, 1, kAxis);
    cv.text(h.diverging ? fmt(v, "%+.2f") : fmt(v, "%.2f"), bar_x + bar_w + 7, y, tick_px, kAxis, 0.0, 0.5);
  }
  if (!h.colorbar_title.empty())
    cv.text(h.colorbar_title, bar_title_x, top + bar_h / 2.0, label_px, kBlack, 0.0, 0.5, true);
  return cv;
}

Canvas stack_panels(const std::vector<Canvas>& panels, bool vertical) {
  const int gap = 12, label_w = 34;
  int W = 0, H = 0;
  for (auto& p : panels) {
    if (vertical) { W = std::max(W, p.width() + label_w); H += p.height() + gap; }
    else { W += p.width() + label_w + gap; H = std::max(H, p.height()); }
  }
  Canvas cv(W, H);
  int x = 0, y = 0;
  for (size_t i = 0; i < panels.size(); ++i) {
    cv.text("(" + std::string(1, (char)('a' + i)) + ")", x + 6, y + 8, 18, kBlack);
    cv.paste(panels[i], x + label_w, y);
    if (vertical) y += panels[i].height() + gap;
    else x += panels[i].width() + label_w + gap;
  }
  return cv;
}

}  // namespace memsig
