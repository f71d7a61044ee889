#include "engine/bidirectional.h"

#include "engine/ops.h"
#include "engine/seq_ops.h"

namespace memsig {

BiRnnOut birnn_layer(RnnBackend& backend, Cell cell, const Var& x, const RnnParams& fwd, const RnnParams& bwd, int T,
                     int B, const std::vector<int>& lengths) {
  RnnOptions opt;
  opt.lengths = lengths;
  RnnLayerOut f = rnn_layer(backend, cell, x, fwd, T, B, opt);
  const std::vector<int32_t> rev = reverse_within_lengths(T, B, lengths);
  RnnLayerOut r = rnn_layer(backend, cell, gather_rows(x, rev), bwd, T, B, opt);
  return {concat({f.h, gather_rows(r.h, rev)}), f.states, r.states};
}

}  // namespace memsig
