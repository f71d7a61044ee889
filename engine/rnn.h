// rnn.h — recurrent layers (LSTM, GRU) over a whole sequence, as single autograd ops.
//
// Math is exactly PyTorch's nn.LSTM / nn.GRU, with PyTorch's weight layout, so weights move
// between the two without conversion:
//   LSTM, gate rows (i, f, g, o) of W_ih [4H,in], W_hh [4H,H], b_ih, b_hh [4H]:
//     i = s(W_ii x + b_ii + W_hi h + b_hi)   f = s(...)   g = tanh(...)   o = s(...)
//     c' = f c + i g          h' = o tanh(c')
//   GRU, gate rows (r, z, n) of W_ih [3H,in], W_hh [3H,H]:
//     r = s(W_ir x + b_ir + W_hr h + b_hr)   z = s(W_iz x + b_iz + W_hz h + b_hz)
//     n = tanh(W_in x + b_in + r (W_hn h + b_hn))      h' = (1 - z) n + z h
//
// Sequences are time-major: x is [T*B, in] with row t*B + b for step t of sequence b.
// The work is split so the big matrix products happen once over all steps:
//   forward:  one GEMM x W_ih^T for every step, then one [B,H]x[H,G*H] GEMM per step;
//   backward: one GEMM per step for dh_{t-1}, and dW_ih, dW_hh, dx as single GEMMs over time.
//
// A backend runs these loops on some device (CPU here; cuDNN plugs in behind the same
// interface). It fills an RnnTape, which keeps what backward needs and the per-step states
// (h, and c for the LSTM) that the probe reads.
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "engine/autograd.h"

namespace memsig {

enum class Cell { LSTM, GRU };
inline int gate_count(Cell c) { return c == Cell::LSTM ? 4 : 3; }
inline const char* cell_name(Cell c) { return c == Cell::LSTM ? "lstm" : "gru"; }
Cell parse_cell(const std::string& s);  // "lstm" | "gru", throws otherwise

struct RnnWeights {  // raw views of one layer's parameters (PyTorch layout)
  const float *w_ih, *w_hh, *b_ih, *b_hh;
  int in, hidden;
};
struct RnnGrads {  // where backward accumulates (+=) the parameter gradients
  float *w_ih, *w_hh, *b_ih, *b_hh;
};

struct RnnTape {
  Cell cell = Cell::LSTM;
  int T = 0, B = 0, in = 0, H = 0;
  std::vector<float> gates;  // [T*B, G*H] gate activations: LSTM (i,f,g,o), GRU (r,z,n)
  std::vector<float> h;      // [(T+1)*B, H]; rows 0..B-1 hold the initial state
  std::vector<float> c;      // LSTM only: [(T+1)*B, H]
  std::vector<float> hn;     // GRU only: W_hn h + b_hn, [T*B, H]
  const float* h_at(int t) const { return h.data() + (size_t)(t + 1) * B * H; }  // state after step t
  const float* c_at(int t) const { return c.data() + (size_t)(t + 1) * B * H; }
};

class RnnBackend {
 public:
  virtual ~RnnBackend() = default;
  virtual std::string name() const = 0;
  // Runs the layer over x [T*B, in]; h0/c0 [B,H] may be null for zeros.
  virtual void forward(Cell cell, const RnnWeights& w, const float* x, int T, int B,
                       const float* h0, const float* c0, RnnTape& tape) = 0;
  // Given dL/dh_t for every step (dh [T*B,H]), accumulates parameter gradients and, if dx is
  // not null, writes dL/dx [T*B, in].
  virtual void backward(const RnnWeights& w, const float* x, const RnnTape& tape,
                        const float* dh, float* dx, RnnGrads& g) = 0;
};

RnnBackend& cpu_backend();

struct RnnParams {
  Var w_ih, w_hh, b_ih, b_hh;
};

struct RnnLayerOut {
  Var h;                          // [T*B, H]: the layer's output at every step
  std::shared_ptr<RnnTape> tape;  // states for the probe and for backward
};

// The differentiable op: one layer over a whole (batch of) sequence(s).
RnnLayerOut rnn_layer(RnnBackend& backend, Cell cell, const Var& x, const RnnParams& p, int T, int B,
                      const float* h0 = nullptr, const float* c0 = nullptr);

}  // namespace memsig
