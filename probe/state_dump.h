// state_dump.h — every per-step state of every layer of a char LM over a list of segments, written
// to one safetensors file for other tools (PyTorch, numpy, LSTMVis-style viewers). Layout:
//
//   symbol      I32 [N]      the input read at this row: <s> (0) at position 0, else c_t
//   segment     I32 [N]      index of the segment in the list
//   position    I32 [N]      t: index in the segment's inputs <s> c1 .. cn
//   layer{l}.h  F32 [N, H]   layer l's output h after reading that input (l = 1..L)
//   layer{l}.c  F32 [N, H]   layer l's cell c after reading it (cells with a cell state: LSTM)
//
// Rows follow the segments in order, each contributing n + 1 rows (positions 0..n); N is their
// sum. Metadata: format = memsig-states, model (its description), cell, layers, hidden, data,
// segments, rows, and symbols (the JSON symbol table). The file is written in pieces, so a corpus
// larger than memory can be dumped; it appears only when complete.
#pragma once
#include <map>
#include <string>
#include <vector>

#include "models/charlm.h"

namespace memsig {

struct StateDumpInfo {
  int64_t rows = 0;
  int64_t segments = 0;
  int64_t bytes = 0;
};

StateDumpInfo dump_states(const CharLM& model, const std::vector<Segment>& segs, const std::string& path,
                          const std::map<std::string, std::string>& metadata, int batch = 64);

}  // namespace memsig
