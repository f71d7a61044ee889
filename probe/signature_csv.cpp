#include "probe/signature_csv.h"

#include <cmath>
#include <cstdio>
#include <sstream>

#include "engine/files.h"

namespace memsig {

namespace {

std::string fmt(double v) {
  if (std::isnan(v)) return "";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.4f", v);
  return buf;
}

}  // namespace

std::string csv_symbol_name(int id) {
  static const char* special[] = {"bos", "eos", "unk"};
  if (id < 3) return special[id];
  if (id < 29) return std::string(1, (char)('a' + id - 3));
  static const char* punct[] = {"space", "period", "comma", "digit", "apostrophe"};
  return punct[id - 29];
}

namespace {

void lag_header(std::ostringstream& out) {
  out << "lag,accuracy,ci95_lo,ci95_hi,chance,n";
  for (int s = 0; s < kNumSymbols; ++s) out << ",recall_" << csv_symbol_name(s);
  for (int s = 0; s < kNumSymbols; ++s) out << ",count_" << csv_symbol_name(s);
  out << "\n";
}

void lag_row(std::ostringstream& out, const LagResult& r) {
  out << r.lag << "," << fmt(r.accuracy) << "," << fmt(r.ci_lo) << "," << fmt(r.ci_hi) << "," << fmt(r.chance) << "," << r.n;
  for (int s = 0; s < kNumSymbols; ++s) out << "," << fmt(r.recall[s]);
  for (int s = 0; s < kNumSymbols; ++s) out << "," << r.count[s];
  out << "\n";
}

// A CSV field: quoted when it holds a comma or a quote.
std::string field(const std::string& v) {
  if (v.find_first_of(",\"\n") == std::string::npos) return v;
  std::string q = "\"";
  for (char c : v) q += c == '"' ? std::string("\"\"") : std::string(1, c);
  return q + "\"";
}

}  // namespace

void write_entry_csv(const EntrySignature& entry, const std::string& path) {
  std::ostringstream out;
  lag_header(out);
  for (auto& r : entry.lags) lag_row(out, r);
  write_text_atomically(path, out.str());
}

void write_entries_csv(const std::vector<EntrySignature>& entries, const std::string& path) {
  std::ostringstream out;
  out << "entry,name,state,";
  lag_header(out);
  for (auto& e : entries)
    for (auto& r : e.lags) {
      out << e.entry << "," << field(e.name) << "," << field(e.state) << ",";
      lag_row(out, r);
    }
  write_text_atomically(path, out.str());
}

void write_marginal_csv(const std::vector<EntrySignature>& entries, const std::string& path, const PerfectMemory* perfect) {
  std::ostringstream out;
  out << "lag";
  for (auto& l : entries) {  // columns named "layer{k}" as ever
    out << ",layer" << l.entry << "_accuracy,layer" << l.entry << "_chance";
    if (perfect) out << ",layer" << l.entry << "_memory_equivalent_k";
  }
  if (perfect)
    for (int k = 1; k <= perfect->K; ++k) out << ",perfect_last" << k;
  out << "\n";
  for (size_t i = 0; i < entries.at(0).lags.size(); ++i) {
    const int lag = entries[0].lags[i].lag;
    out << lag;
    for (auto& l : entries) {
      bool has = i < l.lags.size();
      out << "," << (has ? fmt(l.lags[i].accuracy) : "") << "," << (has ? fmt(l.lags[i].chance) : "");
      if (perfect) out << "," << (i < l.memory_equivalent_k.size() ? std::to_string(l.memory_equivalent_k[i]) : "");
    }
    if (perfect)
      for (int k = 1; k <= perfect->K; ++k) out << "," << (lag <= perfect->D ? fmt(perfect->accuracy[k][lag]) : "");
    out << "\n";
  }
  write_text_atomically(path, out.str());
}

}  // namespace memsig
