// tensor.h — the engine's only data type: a dense, row-major float32 array with a shape.
//
// A Tensor owns its storage (std::vector<float>). Shapes are small vectors of int64.
// "rows" is the first dimension and "cols" the product of the rest, which is how every
// matrix op in the engine sees a tensor: [T*B, H] sequences, [out, in] weights, [N, V] logits.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace memsig {

struct Tensor {
  std::vector<int64_t> shape;
  std::vector<float> data;

  Tensor() = default;
  explicit Tensor(std::vector<int64_t> shape_, float fill = 0.0f);

  int64_t numel() const { return (int64_t)data.size(); }
  int64_t dim(int i) const { return shape.at(i < 0 ? shape.size() + i : i); }
  int64_t rows() const { return shape.empty() ? 1 : shape[0]; }
  int64_t cols() const { return rows() == 0 ? 0 : numel() / rows(); }
  float* ptr() { return data.data(); }
  const float* ptr() const { return data.data(); }
  float& operator[](int64_t i) { return data[i]; }
  float operator[](int64_t i) const { return data[i]; }

  void zero();
  std::string shape_str() const { return shape_str(shape); }
  static std::string shape_str(const std::vector<int64_t>& shape);
};

// The product of the dimensions; throws on a negative dimension or more than kMaxElements.
constexpr int64_t kMaxElements = int64_t(1) << 40;
int64_t numel_of(const std::vector<int64_t>& shape);

}  // namespace memsig
