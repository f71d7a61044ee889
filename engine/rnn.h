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
// Two optional inputs (seams for the models built on this op):
//   * a per-step conditioning input u [T*B, G*H], added to the input side of every gate's
//     pre-activation (u joins W_ih x + b_ih), with its own gradient;
//   * per-sequence lengths: sequence b has lengths[b] real steps; after them its state is held
//     (h_t = h_{t-1}, c_t = c_{t-1}), its outputs are 0 and no gradient flows into the padding.
//     (Without lengths, padding is harmless for left-aligned sequences read forwards; a layer
//     that reads sequences backwards or keeps final states needs them.)
//
// One optional term of the weights: a factorized (low-rank, λ-weighted) kernel. With U [G*H, K],
// V = [V_x | V_h] [K, in + H] and per-step weights λ_t [K] (data, sparse; engine/lowrank.h):
//   LSTM  pre_t += U (λ_t ⊙ (V_x x_t + V_h h_{t-1}))
//   GRU   input side  (rows r, z, n, beside W_ih x + b_ih)  += U (λ_t ⊙ V_x x_t)
//         hidden side (rows r, z, n, beside W_hh h + b_hh)  += U (λ_t ⊙ V_h h_{t-1})
//         so the n rows' hidden term sits inside r ⊙ (.) like W_hn h + b_hn.
// That is the kernel W(λ_t) = [W_ih | W_hh] + Σ_k λ_tk u_k v_kᵀ on [x_t; h_{t-1}], never formed:
// only the bases with λ_tk != 0 are touched, per row.
//
// A backend runs the loops on some device (CPU here; cuDNN plugs in behind the same interface).
// Forward fills the public per-step states (RnnStates: h, and c for the LSTM) that the probe and
// sampling read, and returns what its own backward needs as an opaque RnnSaved (the CPU keeps gate
// activations; a cuDNN backend keeps its reserve space).
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "engine/autograd.h"
#include "engine/cells.h"
#include "engine/lowrank.h"

namespace memsig {

struct RnnWeights {  // raw views of one layer's parameters (PyTorch layout)
  const float *w_ih, *w_hh, *b_ih, *b_hh;
  int in, hidden;
  const float* u = nullptr;  // low-rank term: U [G*H, rank] and V [rank, in + H], or null
  const float* v = nullptr;
  int rank = 0;
};
struct RnnGrads {  // where backward accumulates (+=) the parameter gradients
  float *w_ih, *w_hh, *b_ih, *b_hh;
  float* u = nullptr;  // with a low-rank term
  float* v = nullptr;
};

// What one layer reads: x [T*B, in] and the optional seams above. Null pointers mean "none":
// no conditioning, every sequence T steps long, zero initial state.
struct RnnSequence {
  const float* x = nullptr;
  int T = 0, B = 0;
  const float* cond = nullptr;   // [T*B, G*H]
  const int* lengths = nullptr;  // [B], each in 0..T
  const float* h0 = nullptr;     // [B, H]
  const float* c0 = nullptr;     // [B, H], cells with a cell state only
  const LambdaRows* lambda = nullptr;  // λ per row t*B + b; required with a low-rank term
  bool active(int t, int b) const { return !lengths || t < lengths[b]; }
};

// The public per-step states of a layer: what it computed, for the probe and for sampling.
struct RnnStates {
  Cell cell = Cell::LSTM;
  int T = 0, B = 0, H = 0;
  std::vector<float> h;  // [(T+1)*B, H]; rows 0..B-1 hold the initial state
  std::vector<float> c;  // cells with a cell state: [(T+1)*B, H]; otherwise empty
  const float* h_at(int t) const { return h.data() + (size_t)(t + 1) * B * H; }  // state after step t
  const float* c_at(int t) const { return c.data() + (size_t)(t + 1) * B * H; }
};

// What a backend keeps between its forward and backward (gate activations, a reserve space).
struct RnnSaved {
  virtual ~RnnSaved() = default;
};

class RnnBackend {
 public:
  virtual ~RnnBackend() = default;
  virtual std::string name() const = 0;
  // Runs the layer over the sequence, filling `states`; returns the saved state backward needs.
  virtual std::unique_ptr<RnnSaved> forward(Cell cell, const RnnWeights& w, const RnnSequence& seq,
                                            RnnStates& states) = 0;
  // Given dL/dh_t for every step (dh [T*B,H]), accumulates parameter gradients and writes
  // dL/dx [T*B, in] and dL/dcond [T*B, G*H] where those pointers are not null.
  virtual void backward(Cell cell, const RnnWeights& w, const RnnSequence& seq, const RnnStates& states,
                        const RnnSaved& saved, const float* dh, float* dx, float* dcond, RnnGrads& g) = 0;
};

RnnBackend& cpu_backend();

struct RnnParams {
  Var w_ih, w_hh, b_ih, b_hh;
  Var u{}, v{};  // optional low-rank term: U [G*H, K], V [K, in + H]; both or neither
};

// The optional inputs of rnn_layer (see the seams above).
struct RnnOptions {
  Var cond;                         // [T*B, G*H] or null
  std::vector<int> lengths;         // [B] or empty
  const float* h0 = nullptr;        // [B, H] or null
  const float* c0 = nullptr;
  std::shared_ptr<const LambdaRows> lambda;  // [T*B rows] of K; required when p.u is set
};

struct RnnLayerOut {
  Var h;                                      // [T*B, H]: the layer's output at every step
  std::shared_ptr<const RnnStates> states;    // every step's h (and c), for the probe
};

// The differentiable op: one layer over a whole (batch of) sequence(s).
RnnLayerOut rnn_layer(RnnBackend& backend, Cell cell, const Var& x, const RnnParams& p, int T, int B,
                      const RnnOptions& opt = {});

}  // namespace memsig
