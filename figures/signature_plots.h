// signature_plots.h — memory signatures as pictures: the per-symbol recall map of an entry, the
// marginal accuracy by lag of several entries or models side by side, the difference of two
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
Canvas signature_heatmap(const EntrySignature& entry, const std::string& title, const std::vector<int>& symbols = {},
                         int min_left = 0);
// Accuracy by lag: a column per entry (layer or model), values printed in the cells; with a
// perfect-memory reference, then a column per k: what memory of the last k inputs alone decodes.
Canvas marginal_heatmap(const std::vector<EntrySignature>& entries, const std::vector<std::string>& names,
                        const std::string& title, const PerfectMemory* perfect = nullptr);
// B minus A per entry, one colour scale for all panels.
Canvas diff_heatmap(const std::vector<EntryDiff>& diffs, const std::string& title,
                    const std::string& colorbar_title = "recall B - A");

// What DIR gets per entry. Up to per_entry_files_up_to entries: signature_l{k}.png and .csv for
// each, and marginal.png. Beyond (a large entry set, such as one entry per factorized basis): one
// signature_entries.csv for all entries, PNGs only for the entries named in png_entries (1-based),
// and no marginal.png (a column per entry).
struct SignatureFileOptions {
  int64_t per_entry_files_up_to = 16;
  std::vector<int> png_entries;
};
// DIR/signature.json, the per-entry files above, marginal.csv, and control_* for the control.
void write_signature_files(const Signature& sig, const std::string& dir, const std::string& title,
                           const SignatureFileOptions& files = {});

}  // namespace memsig
