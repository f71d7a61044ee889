// figures.h — experiment recipes that reproduce the paper's figures from a clean clone.
#pragma once
#include <string>

namespace memsig {

struct FigureOptions {
  std::string model;           // reuse this model; trained here when the file is missing
  std::string out_dir = "figures";
  std::string work_dir = "runs/figures";
  double train_minutes = 10;   // when training
  uint64_t seed = 1;
  int64_t max_train_positions = 200000;
  bool quiet = false;
};

// Figure 1: a 1-layer GRU (320 units) on Tiny Shakespeare. (a) memory signature over a-z and '.',
// (b) forward prediction accuracy per symbol. Writes OUT/fig1.png and WORK/fig1/signature.*;
// prints the numbers the README quotes.
void figure_fig1(const FigureOptions& opt);

}  // namespace memsig
