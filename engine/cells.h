// cells.h — the table of recurrent cells: the one place that says what each cell is.
//
// A cell has a name (as written in model files and on the command line), a number of gate blocks
// G (the weights are [G*H, in] and [G*H, H], gate blocks in PyTorch's order), the per-step state
// kinds it keeps ("h", and "c" for the LSTM), and the state the probe reads by default (the
// LSTM's memory cell c, the GRU's h). Code that needs a fact about a cell asks this table; a cell
// name it does not know is an error everywhere (parse_cell), never a silent fallback.
#pragma once
#include <string>
#include <vector>

namespace memsig {

enum class Cell { LSTM, GRU };

struct CellSpec {
  Cell cell;
  const char* name;                      // "lstm" | "gru"
  int gates;                             // G
  std::vector<std::string> gate_names;   // in weight-row order
  std::vector<std::string> state_kinds;  // per-step states the cell keeps
  const char* probe_state;               // the state a signature reads by default
};

const std::vector<CellSpec>& cell_table();
const CellSpec& cell_spec(Cell cell);
Cell parse_cell(const std::string& name);  // throws std::invalid_argument naming the known cells
std::string cell_names();                  // "lstm | gru", for messages and --help

inline int gate_count(Cell c) { return cell_spec(c).gates; }
inline const char* cell_name(Cell c) { return cell_spec(c).name; }
inline bool has_cell_state(Cell c) { return cell_spec(c).state_kinds.size() > 1; }  // keeps a c beside h

}  // namespace memsig
