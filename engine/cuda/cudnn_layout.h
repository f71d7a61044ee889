// cudnn_layout.h — PyTorch's LSTM/GRU weights in and out of a cuDNN weight space.
//
// cuDNN keeps one layer's parameters in one opaque buffer, the weight space. For each "linear
// layer" k = 0..2G-1 cudnnGetRNNWeightParams gives where its matrix and its bias start:
//   k = 0..G-1:   the input side,     matrix [H, in] = W_ih rows k*H..(k+1)*H,  bias = b_ih block k
//   k = G..2G-1:  the recurrent side, matrix [H, H]  = W_hh rows (k-G)*H..,     bias = b_hh block k-G
// with the gate blocks in PyTorch's own order (LSTM i, f, g, o; GRU r, z, n; cuDNN calls g "c"
// and n "h"), each matrix row-major with one row per unit, and two biases per gate
// (CUDNN_RNN_DOUBLE_BIAS). PyTorch's cuDNN path relies on the same correspondence. The offsets
// come from cuDNN at run time; this file only moves the numbers, so it is plain C++ and tested
// on every build (tests/test_cuda_host.cpp).
#pragma once
#include <cstddef>
#include <vector>

#include "engine/rnn.h"

namespace memsig {

struct CudnnWeightLayout {
  Cell cell = Cell::LSTM;
  int in = 0, hidden = 0;
  size_t floats = 0;             // size of the weight space
  std::vector<size_t> matrix;    // [2G]: offset (in floats) of linear layer k's matrix
  std::vector<size_t> bias;      // [2G]: offset of its bias
};

// Checks that every block lies inside the space and no two overlap; throws std::logic_error.
void check_layout(const CudnnWeightLayout& layout);
// Writes the layer's PyTorch-layout weights into the weight space `space` (layout.floats).
void pack_weights(const CudnnWeightLayout& layout, const RnnWeights& w, float* space);
// Adds (+=) a weight-space gradient to the PyTorch-layout gradients.
void add_unpacked_grads(const CudnnWeightLayout& layout, const float* dspace, RnnGrads& g);

}  // namespace memsig
