// signature_plots.h — memory signatures as pictures: the per-symbol recall map of a layer, the
// marginal accuracy by lag of several layers or models side by side, the difference of two
// signatures on a diverging map; and the whole output folder of `memsig signature`.
#pragma once
#include <string>
#include <vector>

#include "figures/render/heatmap.h"
#include "probe/signature.h"
#include "probe/signature_diff.h"
#include "probe/signature_json.h"

namespace memsig {

// Recall per symbol (columns; `symbols` selects and orders them, empty = every symbol that occurs)
// by lag (rows); cells resting on fewer than kMinRecallCount test targets are grey (no data).
Canvas signature_heatmap(const EntrySignature& layer, const std::string& title, const std::vector<int>& symbols = {},
                         int min_left = 0);
// Accuracy by lag: a column per entry (layer or model), values printed in the cells; with a
// perfect-memory reference, then a column per k: what memory of the last k inputs alone decodes.
Canvas marginal_heatmap(const std::vector<EntrySignature>& layers, const std::vector<std::string>& names,
                        const std::string& title, const PerfectMemory* perfect = nullptr);
// B minus A per layer, one colour scale for all panels.
Canvas diff_heatmap(const std::vector<EntryDiff>& diffs, const std::string& title,
                    const std::string& colorbar_title = "recall B - A");

// DIR/signature.json, signature_l{k}.png/.csv, marginal.png/.csv, and control_* for the control.
void write_signature_files(const Signature& sig, const std::string& dir, const std::string& title);

}  // namespace memsig
