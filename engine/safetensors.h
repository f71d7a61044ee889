// safetensors.h — read and write the safetensors format (the format of memsig's model files):
//   [8 bytes: little-endian u64 N][N bytes: JSON header][raw little-endian tensor data]
// The header maps each tensor name to {"dtype":"F32","shape":[...],"data_offsets":[begin,end]}
// (offsets into the data section) and may hold "__metadata__": {string: string}.
#pragma once
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "engine/tensor.h"

namespace memsig {

struct SafeTensors {
  std::map<std::string, Tensor> tensors;
  std::map<std::string, std::string> metadata;
  const Tensor& at(const std::string& path, const std::string& name) const;  // FileError if missing
};

// Atomic (temp file + rename). Tensors are written in the order given.
void save_safetensors(const std::string& path, const std::vector<std::pair<std::string, const Tensor*>>& tensors,
                      const std::map<std::string, std::string>& metadata);
// Validates everything (sizes, offsets, dtypes, JSON) and throws FileError naming the problem.
SafeTensors load_safetensors(const std::string& path);

}  // namespace memsig
