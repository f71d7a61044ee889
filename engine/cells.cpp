#include "engine/cells.h"

#include <stdexcept>

namespace memsig {

const std::vector<CellSpec>& cell_table() {
  static const std::vector<CellSpec> table = {
      {Cell::LSTM, "lstm", 4, {"i", "f", "g", "o"}, {"h", "c"}, "c"},
      {Cell::GRU, "gru", 3, {"r", "z", "n"}, {"h"}, "h"},
  };
  return table;
}

const CellSpec& cell_spec(Cell cell) {
  for (auto& s : cell_table())
    if (s.cell == cell) return s;
  throw std::invalid_argument("cell id " + std::to_string((int)cell) + " is not in the cell table");
}

std::string cell_names() {
  std::string s;
  for (auto& c : cell_table()) s += (s.empty() ? "" : " | ") + std::string(c.name);
  return s;
}

Cell parse_cell(const std::string& name) {
  for (auto& c : cell_table())
    if (name == c.name) return c.cell;
  throw std::invalid_argument("unknown cell '" + name + "' (known: " + cell_names() + ")");
}

}  // namespace memsig
