// las_plots.h — the attention of a LAS model over one utterance as a heatmap: output symbols down,
// the listener's reduced frames across (a clean model draws a diagonal from top left to bottom right).
#pragma once
#include <string>
#include <vector>

#include "corpora/symbols.h"

namespace memsig {

void draw_attention_png(const std::string& path, const std::string& title, const Segment& hyp,
                        const std::vector<std::vector<float>>& attention, int frames_per_column_ms);

}  // namespace memsig
