#include "engine/tensor.h"

#include <algorithm>

namespace memsig {

int64_t numel_of(const std::vector<int64_t>& shape) {
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  return n;
}

Tensor::Tensor(std::vector<int64_t> shape_, float fill)
    : shape(std::move(shape_)), data((size_t)numel_of(shape), fill) {}

void Tensor::zero() { std::fill(data.begin(), data.end(), 0.0f); }

std::string Tensor::shape_str() const {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i) s += (i ? "," : "") + std::to_string(shape[i]);
  return s + "]";
}

}  // namespace memsig
