// seq_ops.h — differentiable ops on padded batches of sequences, for the speech model (LAS):
// row gathers (reversal within each sequence's length, time-major <-> batch-major, broadcasting
// one row per sequence over its steps), frame pairing (the pyramidal listener), a masked softmax
// over each sequence's valid steps (attention) and a batched matrix product (attention contexts).
//
// Layouts. A time-major batch is [T*B, F] with row t*B + b for step t of sequence b (as the RNN
// op reads it); batch-major is [B*T, F] with row b*T + t. lengths[b] in 0..T counts sequence b's
// real steps; rows past it are padding.
#pragma once
#include <cstdint>
#include <vector>

#include "engine/autograd.h"

namespace memsig {

// y_r = x_{idx_r} (a row of zeros where idx_r < 0) ;  dx_{idx_r} += dy_r
// Any index pattern: permutations, repeats (broadcast), drops. y has idx.size() rows.
Var gather_rows(const Var& x, const std::vector<int32_t>& idx);

// The gather indices that reverse each sequence within its length, time-major [T*B]:
//   row t*B + b <- row (len_b - 1 - t)*B + b for t < len_b, zeros (-1) for padding.
std::vector<int32_t> reverse_within_lengths(int T, int B, const std::vector<int>& lengths);
// Time-major [T*B] -> batch-major [B*T] (row b*T + t <- row t*B + b), and back.
std::vector<int32_t> time_to_batch_major(int T, int B);
std::vector<int32_t> batch_to_time_major(int T, int B);
// Row b*T + t <- row b: one row per sequence repeated over its T steps (batch-major).
std::vector<int32_t> repeat_rows(int B, int T);

// Frame pairing (pyramid): x time-major [T*B, F] -> y [T'*B, 2F], T' = ceil(T/2),
//   y_{t,b} = [x_{2t,b} | x_{2t+1,b}]   (x_{T,b} = 0 when T is odd)
//   dx_{2t,b} += dy_{t,b}[0:F] ;  dx_{2t+1,b} += dy_{t,b}[F:2F]
// Lengths become ceil(len/2) (paired_lengths); a sequence of odd length pairs its last frame
// with its (zero) padding.
Var pair_frames(const Var& x, int T, int B);
std::vector<int> paired_lengths(const std::vector<int>& lengths);

// Masked softmax over each sequence's valid steps: s [B, T] (any shape of B*T elements) ->
//   a_{b,t} = exp(s_{b,t}) / sum_{t' < len_b} exp(s_{b,t'})  for t < len_b,  0 for t >= len_b
//   ds_{b,t} = a_{b,t} (da_{b,t} - sum_t' a_{b,t'} da_{b,t'})
// A sequence of length 0 gets all zeros.
Var masked_softmax(const Var& s, int B, int T, const std::vector<int>& lengths);

// Convolution over time within each sequence, PyTorch's Conv1d(1, K, r, padding=(r-1)/2, bias=False)
// (location-aware attention's features of the previous attention weights, Chorowski et al. 2015):
// a [B, T] (any shape of B*T elements), filters F [K, r], r odd, c = (r-1)/2 ->
//   f_{b,t,k} = sum_j F_{k,j} a_{b,t+j-c}      (a = 0 outside 0..T-1)   f: [B*T, K]
//   da_{b,s} += sum_{k,j} F_{k,j} df_{b,s-j+c,k} ;  dF_{k,j} += sum_{b,t} df_{b,t,k} a_{b,t+j-c}
Var conv_over_time(const Var& a, const Var& filters, int B, int T);

// Batched product: a [nb*n, k], b [nb*k, m] -> c [nb*n, m], c_i = a_i b_i for each of nb blocks
//   da_i = dc_i b_i^T ;  db_i = a_i^T dc_i
Var batched_matmul(const Var& a, const Var& b, int nb, int n, int k, int m);

}  // namespace memsig
