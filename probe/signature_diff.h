// signature_diff.h — B minus A: two signatures compared entry by entry and lag by lag.
//
// For the entries and lags both have (matched by entry number): the recall difference per symbol
// and lag, its mean absolute value, and the RMS over lags of the accuracy difference.
//
// With `bootstrap` > 0 and both signatures measured on the same test positions (same corpus,
// seed and position count: their test targets are identical), a paired cluster bootstrap gives a
// 95% percentile interval for every accuracy difference: each of `bootstrap` resamples draws the
// test *segments* with replacement (rows of one sentence are not independent) and recomputes both
// signatures on their rows. Per symbol x lag cell, a two-sided bootstrap p-value; a cell is
// significant when it survives Benjamini-Hochberg at a false discovery rate of 5% over all cells.
#pragma once
#include <cstdint>
#include <vector>

#include "probe/signature.h"

namespace memsig {

struct EntryDiff {
  int entry = 0;
  std::vector<int> lags;
  std::vector<int> symbols;          // symbols present in both
  std::vector<double> recall_diff;   // [lags x symbols], NaN where either count < kMinRecallCount
  double mean_abs = 0;               // mean |recall B - A| over the cells with numbers
  double marginal_rms = 0;           // RMS over lags of accuracy B - A
  // From the paired bootstrap (empty without one):
  std::vector<uint8_t> significant;  // [lags x symbols]: the 95% interval excludes 0
  std::vector<double> accuracy_diff, accuracy_lo, accuracy_hi;  // per lag
  bool paired = false;
};
// std::invalid_argument when the two share no entry and lag.
std::vector<EntryDiff> diff_signatures(const Signature& a, const Signature& b, int bootstrap = 0, uint64_t seed = 1);

}  // namespace memsig
