// states.h — reading a state source over a split: the rows the decoders learn from.
//
// The source runs over the split batch by batch (zero state per segment). Every row with a real
// lag-1 target (position t >= 2 in <s> c1..cn) is kept with probability p, so that about
// max_positions are kept (never all states of a large corpus), together with the symbols at
// positions t-1, ..., t-L: the targets of the lag-1..L decoders. A target at <s> or before the
// segment start is -1 and skipped: decoders are only asked for real characters.
#pragma once
#include <string>
#include <vector>

#include "probe/state_source.h"

namespace memsig {

struct StateOptions {
  std::vector<int> entries;      // which entries of the source (0-based); empty = all
  int max_lag = 10;              // L: decoders for lags 1..L
  int64_t max_positions = 0;     // 0 = keep every row
  uint64_t seed = 1;
  int batch = 64;
};

struct StateSet {
  int max_lag = 0;
  int64_t n = 0;                                  // rows kept
  std::vector<int> entries;                       // source entry of each state matrix below
  std::vector<std::string> names;                 // its name ("layer 1")
  std::vector<int> width;                         // its width
  std::vector<std::vector<float>> states;         // per entry: [n, width]
  std::vector<int32_t> history;                   // [n, max_lag]: the symbols at t-1 .. t-L, -1 = none
  std::vector<int32_t> segment;                   // [n]: the segment (index in the list read) of each row
  // The target of the lag-`lag` decoder at row i (lag = 1..max_lag), or -1.
  int32_t target(int64_t i, int lag) const { return history[(size_t)i * max_lag + (lag - 1)]; }
};

// `features` (speech corpora): attaches each batch's frames, read from split `split`.
StateSet extract_states(const StateSource& source, const std::vector<Segment>& segs, const StateOptions& opt,
                        const BatchFeatureSource* features = nullptr, const std::string& split = "");

}  // namespace memsig
