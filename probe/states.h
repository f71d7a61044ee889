// states.h — reading a frozen model's recurrent states, and the symbols they should remember.
//
// The model runs over a split batch by batch (zero state per segment, inputs <s> c1..cn). At each
// input position t, layer l's state after reading x_t is kept with probability p (so at most about
// max_positions are kept; never all states of a large corpus), together with the inputs
// x_{t-1}, ..., x_{t-D}: the targets of the lag-1..D decoders. A target that falls on <s> or
// before the segment start is marked -1 and skipped: decoders are only asked for real characters.
//
// State kinds: LSTM "c" (cell, the default), "h" (output) or "ch" (both, concatenated); GRU "h".
#pragma once
#include <string>
#include <vector>

#include "models/charlm.h"

namespace memsig {

struct StateOptions {
  std::vector<int> layers;       // which layers (0-based); empty = all
  std::string state = "";        // "c" | "h" | "ch"; empty = c for LSTM, h for GRU
  int max_delta = 10;            // D
  int64_t max_positions = 0;     // 0 = keep every position
  uint64_t seed = 1;
  int batch = 64;
};

struct StateSet {
  int D = 0;
  int64_t n = 0;                                  // positions kept
  std::vector<int> layers;                        // model layer of each entry below
  std::vector<int> width;                         // state width per entry (H, or 2H for "ch")
  std::vector<std::vector<float>> states;         // per entry: [n, width]
  std::vector<int32_t> history;                   // [n, D]: the inputs x_{t-1} .. x_{t-D}, -1 = none
  int32_t lag(int64_t i, int d) const { return history[(size_t)i * D + (d - 1)]; }  // x_{t-d}, d = 1..D, or -1
};

std::string default_state_kind(Cell cell);
StateSet extract_states(const CharLM& model, const std::vector<Segment>& segs, const StateOptions& opt);

// The LM's own next-symbol prediction on a split: per target symbol, how often argmax p = target.
struct ForwardAccuracy {
  std::vector<double> recall;   // [34], NaN where the symbol never occurs as a target
  std::vector<int64_t> count;   // [34]
  double accuracy = 0;
};
ForwardAccuracy forward_accuracy(const CharLM& model, const std::vector<Segment>& segs, int batch = 64);

}  // namespace memsig
