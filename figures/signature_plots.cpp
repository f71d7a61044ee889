#include "figures/signature_plots.h"

#include <algorithm>
#include <cmath>

#include "engine/files.h"
#include "probe/signature_csv.h"
#include "probe/signature_json.h"

namespace memsig {

namespace {

std::vector<std::string> lag_labels(const EntrySignature& entry) {
  std::vector<std::string> rows;
  for (auto& r : entry.lags) rows.push_back(std::to_string(r.lag));
  return rows;
}

}  // namespace

Canvas signature_heatmap(const EntrySignature& entry, const std::string& title, const std::vector<int>& symbols,
                         int min_left) {
  Heatmap h;
  h.min_left = min_left;
  h.title = title;
  h.x_title = "symbol";
  h.y_title = "lag d";
  h.colorbar_title = "recall";
  std::vector<int> cols = symbols.empty() ? symbols_present(entry) : symbols;
  for (int s : cols) h.cols.push_back(symbol_label(s));
  h.rows = lag_labels(entry);
  for (auto& r : entry.lags)
    for (int s : cols) h.values.push_back(r.count[s] >= kMinRecallCount ? r.recall[s] : NAN);
  return draw_heatmap(h);
}

Canvas marginal_heatmap(const std::vector<EntrySignature>& entries, const std::vector<std::string>& names,
                        const std::string& title, const PerfectMemory* perfect) {
  Heatmap h;
  h.title = title;
  h.x_title = perfect ? "models | perfect memory of the last k inputs" : "";
  h.y_title = "lag d";
  h.colorbar_title = "accuracy";
  h.cols = names;
  if (perfect)
    for (int k = 1; k <= perfect->K; ++k) h.cols.push_back("last " + std::to_string(k));
  h.rows = lag_labels(entries.at(0));
  h.annotate = true;
  h.cell_w = 0;
  for (auto& n : h.cols) h.cell_w = std::max(h.cell_w, Canvas::text_width(n, 12) + 10);
  h.cell_w = std::max(h.cell_w, 44);
  for (size_t i = 0; i < h.rows.size(); ++i) {
    for (auto& l : entries) h.values.push_back(i < l.lags.size() ? l.lags[i].accuracy : NAN);
    if (perfect) {
      int lag = entries.at(0).lags[i].lag;
      for (int k = 1; k <= perfect->K; ++k) h.values.push_back(lag <= perfect->D ? perfect->accuracy[k][lag] : NAN);
    }
  }
  return draw_heatmap(h);
}

Canvas diff_heatmap(const std::vector<EntryDiff>& diffs, const std::string& title, const std::string& colorbar_title) {
  std::vector<Heatmap> maps;
  double vmax = 0;  // one colour scale for every panel, so entries compare at a glance
  for (auto& d : diffs) {
    Heatmap h;
    h.title = title + (diffs.size() > 1 ? ", entry " + std::to_string(d.entry) : "");
    h.x_title = "symbol";
    h.y_title = "lag d";
    h.colorbar_title = colorbar_title;
    h.diverging = true;
    for (int s : d.symbols) h.cols.push_back(symbol_label(s));
    for (int lag : d.lags) h.rows.push_back(std::to_string(lag));
    h.values = d.recall_diff;
    if (d.paired) {  // dot the cells whose difference the paired bootstrap cannot tell from 0
      h.x_title = "symbol  (dot: not significant; paired bootstrap over the shared test segments, FDR 5%)";
      for (size_t c = 0; c < d.significant.size(); ++c) h.marks.push_back(!std::isnan(d.recall_diff[c]) && !d.significant[c]);
    }
    for (double v : h.values) if (!std::isnan(v)) vmax = std::max(vmax, std::abs(v));
    maps.push_back(h);
  }
  std::vector<Canvas> panels;
  for (auto& h : maps) {
    h.vmax = vmax > 0 ? std::ceil(vmax * 10) / 10 : 0.1;
    panels.push_back(draw_heatmap(h));
  }
  return panels.size() == 1 ? panels[0] : stack_panels(panels);
}

void write_signature_files(const Signature& sig, const std::string& dir, const std::string& title,
                           const SignatureFileOptions& files) {
  make_dirs(dir);
  write_text_atomically(dir + "/signature.json", to_json(sig).dump(1) + "\n");
  auto write_set = [&](const ProbedModel& pm, const std::string& prefix, const std::string& what) {
    const bool grouped = (int64_t)pm.entries.size() > files.per_entry_files_up_to;
    std::vector<std::string> names;
    for (auto& l : pm.entries) {
      std::string k = std::to_string(l.entry);
      const bool named = std::find(files.png_entries.begin(), files.png_entries.end(), l.entry) != files.png_entries.end();
      if (!grouped) write_entry_csv(l, dir + "/" + prefix + "signature_l" + k + ".csv");
      if (!grouped || named)
        signature_heatmap(l, title + what + ", " + l.name + " (" + l.state + ")").save_png(dir + "/" + prefix + "signature_l" + k + ".png");
      names.push_back(l.name);
    }
    if (grouped) write_entries_csv(pm.entries, dir + "/" + prefix + "signature_entries.csv");
    const PerfectMemory* perfect = sig.perfect ? &*sig.perfect : nullptr;
    write_marginal_csv(pm.entries, dir + "/" + prefix + "marginal.csv", perfect);
    if (!grouped)  // a column per entry: unreadable for hundreds
      marginal_heatmap(pm.entries, names, title + what + ": accuracy by lag", perfect).save_png(dir + "/" + prefix + "marginal.png");
  };
  write_set(sig.trained, "", "");
  if (sig.control) write_set(*sig.control, "control_", " (untrained control)");
}

}  // namespace memsig
