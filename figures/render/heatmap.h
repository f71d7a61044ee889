// heatmap.h — labelled heatmaps: a grid of values with row and column labels, axis titles, a colour
// bar with ticks and a title (colour maps in colormap.h); several panels (a), (b), ... in one image.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "figures/render/canvas.h"
#include "figures/render/colormap.h"

namespace memsig {

struct Heatmap {
  std::string title, x_title, y_title, colorbar_title;
  std::vector<std::string> cols, rows;
  std::vector<double> values;  // [rows * cols], NaN = no data (drawn light grey)
  double vmin = 0, vmax = 1;
  bool diverging = false;      // symmetric diverging map over [-vmax, vmax]
  bool annotate = false;       // print each value in its cell
  int cell_w = 26, cell_h = 24;
  int min_left = 0;            // at least this much room left of the grid (aligns stacked panels)
  std::vector<uint8_t> marks;  // [rows * cols] or empty: a marked cell gets a small dot (say why in x_title)
};

Canvas draw_heatmap(const Heatmap& h);
// Panels side by side (vertical = false) or one above the other, each marked (a), (b), ...
Canvas stack_panels(const std::vector<Canvas>& panels, bool vertical = true);

}  // namespace memsig
