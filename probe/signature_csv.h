// signature_csv.h — a signature's numbers as CSV tables: per entry, one row per lag (accuracy,
// interval, chance, n, then recall and count per symbol), or every entry in one table; and the
// marginal accuracy by lag with a column pair per entry (named "layer{k}_..." as ever).
#pragma once
#include <string>
#include <vector>

#include "probe/signature.h"

namespace memsig {

std::string csv_symbol_name(int id);  // "a", "space", "period", ... (names safe in a CSV header)
void write_entry_csv(const EntrySignature& entry, const std::string& path);
// Many entries in one table: a row per entry and lag (entry, name, state, then as above).
void write_entries_csv(const std::vector<EntrySignature>& entries, const std::string& path);
// With a perfect-memory reference: its accuracy per k, and each entry's memory-equivalent k.
void write_marginal_csv(const std::vector<EntrySignature>& entries, const std::string& path,
                        const PerfectMemory* perfect = nullptr);

}  // namespace memsig
