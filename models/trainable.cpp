#include "models/trainable.h"

#include <cstdio>

#include "engine/safetensors.h"

namespace memsig {

std::vector<Var> Trainable::parameters() const {
  std::vector<Var> ps;
  for (auto& [name, p] : named_parameters()) ps.push_back(p);
  return ps;
}

std::vector<std::string> Trainable::parameter_names() const {
  std::vector<std::string> names;
  for (auto& [name, p] : named_parameters()) names.push_back(name);
  return names;
}

int64_t Trainable::parameter_count() const {
  int64_t n = 0;
  for (auto& [name, p] : named_parameters()) n += p->value.numel();
  return n;
}

std::string weights_digest(const Trainable& m) {
  uint64_t h = 1469598103934665603ull;
  for (auto& [name, p] : m.named_parameters())
    for (float v : p->value.data) {
      uint32_t bits = __builtin_bit_cast(uint32_t, v);
      for (int i = 0; i < 4; ++i) h = (h ^ ((bits >> (8 * i)) & 0xff)) * 1099511628211ull;
    }
  char buf[20];
  std::snprintf(buf, sizeof buf, "%016llx", (unsigned long long)h);
  return buf;
}

void save_trainable(const std::string& path, const Trainable& model, const std::map<std::string, std::string>& extra_metadata,
                    const std::vector<std::pair<std::string, const Tensor*>>& extra_tensors) {
  std::vector<std::pair<std::string, const Tensor*>> tensors;
  auto named = model.named_parameters();
  for (auto& [name, p] : named) tensors.push_back({name, &p->value});
  tensors.insert(tensors.end(), extra_tensors.begin(), extra_tensors.end());
  auto meta = model.file_metadata();
  for (auto& [k, v] : extra_metadata) meta[k] = v;
  save_safetensors(path, tensors, meta);
}

}  // namespace memsig
