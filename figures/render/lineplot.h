// lineplot.h — lines over a shared x axis: labelled axes with ticks, a series per colour with dots
// at its points, a legend. For curves (accuracy by lag, perplexity by retraining fraction); x may
// be logarithmic.
#pragma once
#include <cmath>
#include <string>
#include <vector>

#include "figures/render/canvas.h"

namespace memsig {

struct Series {
  std::string name;
  std::vector<double> x, y;  // NaN y values are skipped (the line breaks there)
  bool dashed = false;
};

struct LinePlot {
  std::string title, x_title, y_title;
  std::vector<Series> series;
  bool log_x = false;
  double y_min = NAN, y_max = NAN;  // NaN: from the data
  int width = 620, height = 380;
};

Canvas draw_lineplot(const LinePlot& p);
Rgb series_color(size_t i);  // a qualitative palette (ColorBrewer Dark2), cycling

}  // namespace memsig
