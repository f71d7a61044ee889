#include "engine/tensor.h"

#include <algorithm>
#include <stdexcept>

namespace memsig {

int64_t numel_of(const std::vector<int64_t>& shape) {
  int64_t n = 1;
  for (int64_t d : shape) {
    if (d < 0) throw std::invalid_argument("tensor shape has a negative dimension");
    if (__builtin_mul_overflow(n, d, &n) || n > kMaxElements)
      throw std::length_error("tensor shape has more than 2^40 elements");
  }
  return n;
}

Tensor::Tensor(std::vector<int64_t> shape_, float fill)
    : shape(std::move(shape_)), data((size_t)numel_of(shape), fill) {}

void Tensor::zero() { std::fill(data.begin(), data.end(), 0.0f); }

std::string Tensor::shape_str(const std::vector<int64_t>& shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i) s += (i ? "," : "") + std::to_string(shape[i]);
  return s + "]";
}

}  // namespace memsig
