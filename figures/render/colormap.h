// colormap.h — the colour maps of every picture: a sequential map (white = 0 to dark purple = 1)
// for recall and accuracy, and a diverging one (blue < 0 < red, white at 0) for differences.
#pragma once
#include "figures/render/canvas.h"

namespace memsig {

Rgb sequential_color(double t);  // t in [0,1]
Rgb diverging_color(double t);   // t in [-1,1]

}  // namespace memsig
