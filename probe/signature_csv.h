// signature_csv.h — a signature's numbers as CSV tables: per layer, one row per lag (accuracy,
// interval, chance, n, then recall and count per symbol); and the marginal accuracy by lag with a
// column pair per layer.
#pragma once
#include <string>
#include <vector>

#include "probe/signature.h"

namespace memsig {

std::string csv_symbol_name(int id);  // "a", "space", "period", ... (names safe in a CSV header)
void write_layer_csv(const EntrySignature& layer, const std::string& path);
// With a perfect-memory reference: its accuracy per k, and each layer's memory-equivalent k.
void write_marginal_csv(const std::vector<EntrySignature>& layers, const std::string& path,
                        const PerfectMemory* perfect = nullptr);

}  // namespace memsig
