// state_source.h — what the probe reads: any model that has states to decode.
//
// A state source has named entries ("layer 1", later "encoder 3", "decoder query", "5-gram
// context"), each a vector of some width. Given a batch of segments it runs the frozen model and
// returns, for the chosen entries, state rows; each row stands at one symbol of one segment:
//   row r  ->  sequence[r] (which segment of the batch) and position[r], the index of the symbol it
//              stands at in that segment's symbol sequence  <s> c1 .. cn  (0 = <s>).
// A char LM's state after reading x_t stands at t; a speech encoder frame stands at the grapheme
// being spoken. The decoder for lag d predicts the symbol at position - d (targets at <s> or before
// the segment are skipped). Rows come in sequence order, then position order.
//
// A source also gives its untrained control (the same architecture with fresh random weights, to
// show how much of a signature the trained weights make), and, when it is a language model, the
// model itself for the forward prediction accuracy beside the signature.
//
// A new model kind plugs into the probe by implementing this interface (probe/*_source.cpp).
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "corpora/batches.h"
#include "models/lm.h"

namespace memsig {

struct StateEntry {
  std::string name;  // "layer 1"
  int width = 0;
};

class StateBatch {
 public:
  virtual ~StateBatch() = default;
  std::vector<int> sequence;  // per row: index of the sequence in the batch
  std::vector<int> position;  // per row: index in <s> c1..cn
  size_t rows() const { return position.size(); }
  // Writes entry `e` (an index into the list passed to StateSource::run) of row r: width floats.
  virtual void copy_row(size_t e, size_t r, float* dst) const = 0;
};

class StateSource {
 public:
  virtual ~StateSource() = default;
  virtual std::string describe() const = 0;    // "gru 1x320"
  virtual std::string state_kind() const = 0;  // what the rows are: "c", "h", "ch", ...
  virtual std::vector<StateEntry> entries() const = 0;
  // Runs the batch and returns the states of the chosen entries (indices into entries()).
  virtual std::unique_ptr<StateBatch> run(const Batch& batch, const std::vector<int>& chosen) const = 0;
  // The same architecture with random weights drawn from `seed`; null when the kind has none.
  virtual std::unique_ptr<StateSource> untrained_control(uint64_t seed) const = 0;
  // The language model whose states these are, for the forward prediction accuracy; or null.
  virtual const LanguageModel* language_model() const = 0;
  // Settings that identify the model (for signature checkpoints): kind, sizes, a weight digest.
  virtual std::string identity() const = 0;
  // How many rows of these segments have a real lag-1 target (position >= 2), to subsample them
  // evenly; one row per symbol unless a source says otherwise.
  virtual int64_t eligible_rows(const std::vector<Segment>& segs) const;
};

}  // namespace memsig
