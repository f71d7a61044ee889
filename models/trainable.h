// trainable.h — what the training loop, checkpoints and model files need of any model: its
// parameters by name (the tensor names of its file) and the metadata that describes it.
#pragma once
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "engine/autograd.h"
#include "engine/tensor.h"

namespace memsig {

class Trainable {
 public:
  virtual ~Trainable() = default;
  virtual std::vector<std::pair<std::string, Var>> named_parameters() const = 0;
  virtual std::map<std::string, std::string> file_metadata() const = 0;  // format, sizes, symbols

  std::vector<Var> parameters() const;
  std::vector<std::string> parameter_names() const;
  int64_t parameter_count() const;
};

// A fingerprint of every parameter's bits (FNV-1a), 16 hex digits: the same weights, the same string.
std::string weights_digest(const Trainable& model);

// One safetensors file: the parameters (then `extra_tensors`) and file_metadata() plus `extra_metadata`.
void save_trainable(const std::string& path, const Trainable& model,
                    const std::map<std::string, std::string>& extra_metadata = {},
                    const std::vector<std::pair<std::string, const Tensor*>>& extra_tensors = {});

}  // namespace memsig
