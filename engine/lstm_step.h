// lstm_step.h — one step of an LSTM as a single op whose initial state takes a gradient and whose
// final state is an output: the speller of an attention model runs its LSTM one output step at a
// time (each step's input depends on the previous step's attention), so the whole-sequence RNN op
// (engine/rnn.h, whose h0/c0 are constants and whose final state is not an output) cannot carry it.
// Same math and weight layout as nn.LSTM / nn.LSTMCell (gate rows i, f, g, o):
//   z = x W_ih^T + b_ih + h W_hh^T + b_hh
//   i = s(z_i)  f = s(z_f)  g = tanh(z_g)  o = s(z_o)
//   c' = f c + i g        h' = o tanh(c')
// The state travels as one tensor hc = [h | c] of shape [B, 2H] (in and out), so one op has one
// output; split(hc, {H, H}) reads h'.
// Backward, given dh', dc' (dc' also receives what h' passes through tanh):
//   dc~ = dc' + dh' o (1 - tanh(c')^2)        do = dh' tanh(c')
//   di = dc~ g   df = dc~ c   dg = dc~ i      dc = dc~ f
//   dz = [di i(1-i), df f(1-f), dg (1-g^2), do o(1-o)]
//   dx = dz W_ih   dh = dz W_hh   dW_ih += dz^T x   dW_hh += dz^T h   db_ih = db_hh += sum_rows dz
#pragma once
#include "engine/rnn.h"

namespace memsig {

Var lstm_step(const Var& x, const Var& hc, const RnnParams& p);

}  // namespace memsig
