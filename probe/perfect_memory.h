// perfect_memory.h — the reference a memory signature is read against: a reader with perfect
// memory of the last k inputs, and nothing else.
//
// Positions are the probe's (states.h): a segment is read as x_0 = <s>, x_t = c_t; the state after
// reading x_t, for t = 2..n, is asked for the input d steps back, x_{t-d}, and a target on <s> or
// before the segment (t - d < 1) is skipped.
//
// The reader for (k, d) sees the window x_{t-k+1} .. x_t (k inputs, the current one included, so
// x_{t-d} is inside it exactly when d < k). Near a segment start the window is cut at <s>: it is
// x_0 .. x_t when t < k-1, a shorter window that starts with <s> and is kept apart from every
// full window of the same symbols. The reader answers, for its window, the x_{t-d} most often seen
// with that window in the training split (ties: the lower symbol id); a window never seen in
// training (or seen only where lag d had no target) backs off to the window of k-1 inputs, ..., and
// finally to the most frequent training target of lag d (k = 0, the chance level of the probe).
// Accuracy is measured on the test split, over every eligible position (no subsampling).
//
// For d >= k the window does not hold x_{t-d}, so what the reader gets right there comes from
// the statistics of the text alone; on i.i.d. symbols it is chance.
#pragma once
#include <cstdint>
#include <vector>

#include "corpora/symbols.h"

namespace memsig {

struct PerfectMemory {
  int K = 0, D = 0;
  // accuracy[k][d] for k = 0..K (k = 0: the most frequent target, the chance level), d = 1..D
  // (accuracy[k][0] is unused, NaN); correct[k][d] the right answers; count[d] the test targets.
  std::vector<std::vector<double>> accuracy;
  std::vector<std::vector<int64_t>> correct;
  std::vector<int64_t> count;
};

// Cost: the two splits sorted by window once (radix sort), then per k one merge of the two orders;
// memory ~ 14 bytes per training symbol + one byte per test position and lag, in blocks of lags
// (lag_block lags a pass; 0: as many as keep that under 16 MiB). The result does not depend on it.
// Throws std::invalid_argument for a symbol id >= 34 or a split of over 4G symbols.
PerfectMemory perfect_memory(const std::vector<Segment>& train, const std::vector<Segment>& test, int max_k = 5,
                             int max_delta = 10, int lag_block = 0);

// Per lag d = 1..D (element d-1): the smallest k in 1..K whose perfect-memory accuracy reaches the
// model's accuracy at that lag (model_accuracy[d-1]), or 0 when none does.
std::vector<int> memory_equivalent_k(const PerfectMemory& pm, const std::vector<double>& model_accuracy);

}  // namespace memsig
