// cudnn_layout.cpp — the mapping of cudnn_layout.h: block k of PyTorch's tensors <-> linear layer k.
#include "engine/cuda/cudnn_layout.h"

#include <algorithm>
#include <stdexcept>
#include <string>
#include <utility>

namespace memsig {

namespace {

// The PyTorch block behind linear layer k: (rows of the matrix's source, its column count).
struct Block {
  const float* w;  // first element of the block in W_ih or W_hh
  const float* b;  // first element in b_ih or b_hh
  int cols;
};

Block block_of(const CudnnWeightLayout& L, const RnnWeights& w, int k) {
  const int G = gate_count(L.cell), H = L.hidden;
  if (k < G) return {w.w_ih + (size_t)k * H * L.in, w.b_ih + (size_t)k * H, L.in};
  return {w.w_hh + (size_t)(k - G) * H * H, w.b_hh + (size_t)(k - G) * H, H};
}

}  // namespace

void check_layout(const CudnnWeightLayout& L) {
  const int G = gate_count(L.cell), H = L.hidden;
  if ((int)L.matrix.size() != 2 * G || (int)L.bias.size() != 2 * G)
    throw std::logic_error("cudnn layout: expected " + std::to_string(2 * G) + " linear layers");
  std::vector<std::pair<size_t, size_t>> spans;  // [begin, end) in floats
  for (int k = 0; k < 2 * G; ++k) {
    const size_t cols = k < G ? L.in : H;
    spans.push_back({L.matrix[k], L.matrix[k] + (size_t)H * cols});
    spans.push_back({L.bias[k], L.bias[k] + (size_t)H});
  }
  std::sort(spans.begin(), spans.end());
  for (size_t i = 0; i < spans.size(); ++i) {
    if (spans[i].second > L.floats)
      throw std::logic_error("cudnn layout: a block ends at " + std::to_string(spans[i].second) +
                             " past the weight space's " + std::to_string(L.floats) + " floats");
    if (i > 0 && spans[i].first < spans[i - 1].second) throw std::logic_error("cudnn layout: two blocks overlap");
  }
}

void pack_weights(const CudnnWeightLayout& L, const RnnWeights& w, float* space) {
  const int G = gate_count(L.cell), H = L.hidden;
  for (int k = 0; k < 2 * G; ++k) {
    Block src = block_of(L, w, k);
    std::copy_n(src.w, (size_t)H * src.cols, space + L.matrix[k]);
    std::copy_n(src.b, (size_t)H, space + L.bias[k]);
  }
}

void add_unpacked_grads(const CudnnWeightLayout& L, const float* dspace, RnnGrads& g) {
  const int G = gate_count(L.cell), H = L.hidden;
  for (int k = 0; k < 2 * G; ++k) {
    const bool input_side = k < G;
    const int blk = input_side ? k : k - G, cols = input_side ? L.in : H;
    float* dw = (input_side ? g.w_ih : g.w_hh) + (size_t)blk * H * cols;
    float* db = (input_side ? g.b_ih : g.b_hh) + (size_t)blk * H;
    const float* sw = dspace + L.matrix[k];
    const float* sb = dspace + L.bias[k];
    for (size_t i = 0; i < (size_t)H * cols; ++i) dw[i] += sw[i];
    for (int i = 0; i < H; ++i) db[i] += sb[i];
  }
}

}  // namespace memsig
