#include "figures/las_plots.h"

#include "figures/render/heatmap.h"

namespace memsig {

void draw_attention_png(const std::string& path, const std::string& title, const Segment& hyp,
                        const std::vector<std::vector<float>>& attention, int ms_per_column) {
  Heatmap h;
  h.title = title;
  h.x_title = "listener frame (" + std::to_string(ms_per_column) + " ms each; label = seconds)";
  h.y_title = "output symbol";
  h.colorbar_title = "attention";
  const size_t U = attention.size(), T = U ? attention[0].size() : 0;
  for (size_t t = 0; t < T; ++t) {
    double sec = t * ms_per_column / 1000.0;
    int every = std::max<int>(1, 1000 / ms_per_column);
    h.cols.push_back(t % every == 0 ? std::to_string((int)(sec + 0.5)) : "");
  }
  for (size_t i = 0; i < U; ++i) h.rows.push_back(i < hyp.size() ? symbol_label(hyp[i]) : "</s>");
  for (auto& row : attention) h.values.insert(h.values.end(), row.begin(), row.end());
  h.vmin = 0;
  h.vmax = 1;
  h.cell_w = T > 150 ? 4 : 7;
  h.cell_h = 10;
  draw_heatmap(h).save_png(path);
}

}  // namespace memsig
