// rnn.cpp — the autograd wrapper around a backend's whole-sequence forward and backward.
#include "engine/rnn.h"

#include <stdexcept>

namespace memsig {

Cell parse_cell(const std::string& s) {
  if (s == "lstm") return Cell::LSTM;
  if (s == "gru") return Cell::GRU;
  throw std::invalid_argument("unknown cell '" + s + "' (expected lstm or gru)");
}

static RnnWeights weights_of(const RnnParams& p) {
  const Tensor& whh = p.w_hh->value;
  return {p.w_ih->value.ptr(), whh.ptr(), p.b_ih->value.ptr(), p.b_hh->value.ptr(),
          (int)p.w_ih->value.dim(1), (int)whh.dim(1)};
}

RnnLayerOut rnn_layer(RnnBackend& backend, Cell cell, const Var& x, const RnnParams& p, int T, int B,
                      const float* h0, const float* c0) {
  RnnWeights w = weights_of(p);
  int G = gate_count(cell);
  if (p.w_ih->value.dim(0) != G * w.hidden || p.w_hh->value.dim(0) != G * w.hidden ||
      x->value.numel() != (int64_t)T * B * w.in)
    throw std::invalid_argument("rnn_layer: input " + x->value.shape_str() + " does not match weights " +
                                p.w_ih->value.shape_str());
  auto tape = std::make_shared<RnnTape>();
  backend.forward(cell, w, x->value.ptr(), T, B, h0, c0, *tape);
  int H = w.hidden;
  Tensor out({(int64_t)T * B, H});
  std::copy(tape->h.begin() + (size_t)B * H, tape->h.end(), out.data.begin());
  Var h = make_result(std::move(out), {x, p.w_ih, p.w_hh, p.b_ih, p.b_hh},
                      [&backend, x, p, tape](Node& self) {
    RnnWeights w = weights_of(p);
    RnnGrads g{p.w_ih->g().ptr(), p.w_hh->g().ptr(), p.b_ih->g().ptr(), p.b_hh->g().ptr()};
    if (x->requires_grad) {
      Tensor dx(x->value.shape);
      backend.backward(w, x->value.ptr(), *tape, self.grad.ptr(), dx.ptr(), g);
      float* gx = x->g().ptr();
      for (int64_t i = 0; i < dx.numel(); ++i) gx[i] += dx.data[i];
    } else {
      backend.backward(w, x->value.ptr(), *tape, self.grad.ptr(), nullptr, g);
    }
  });
  return {h, tape};
}

}  // namespace memsig
