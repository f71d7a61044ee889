// bidirectional.h — a bidirectional recurrent layer over a padded batch, built from the RNN op
// (engine/rnn.h, so any backend serves it) and row gathers (engine/seq_ops.h):
//   h_fwd = rnn(x)                                   (lengths hold the state past each end)
//   h_bwd = R rnn_b(R x),  R = reversal of each sequence within its length (a row gather, R R = I
//                              on the valid rows; padding rows are 0)
//   y = [h_fwd | h_bwd]      [T*B, 2H], rows past a sequence's length are 0
// The gradient flows back through the gathers and both RNN calls.
#pragma once
#include <memory>
#include <vector>

#include "engine/rnn.h"

namespace memsig {

struct BiRnnOut {
  Var h;                                                  // [T*B, 2H]
  std::shared_ptr<const RnnStates> fwd, bwd;              // bwd's step t is the reversed sequence's step t
};

BiRnnOut birnn_layer(RnnBackend& backend, Cell cell, const Var& x, const RnnParams& fwd, const RnnParams& bwd, int T,
                     int B, const std::vector<int>& lengths);

}  // namespace memsig
