// safetensors.h — read and write the safetensors format (the format of memsig's model files):
//   [8 bytes: little-endian u64 N][N bytes: JSON header][raw little-endian tensor data]
// The header maps each tensor name to {"dtype":"F32","shape":[...],"data_offsets":[begin,end]}
// (offsets into the data section) and may hold "__metadata__": {string: string}.
#pragma once
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "engine/files.h"
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
// Validates everything (sizes, offsets, dtypes, JSON) before allocating, and throws FileError
// naming the problem. Only regular files are read; the header is at most 100 MB (the format's
// limit); tensors must tile the data section exactly (no overlap, no unindexed bytes).
constexpr uint64_t kMaxHeaderBytes = 100000000;
SafeTensors load_safetensors(const std::string& path);
SafeTensors parse_safetensors(const std::string& bytes, const std::string& path);  // the same, from memory

// A safetensors file too large to hold in memory, written in pieces: every tensor (F32 or I32) is
// declared up front, so the header and each tensor's place are known; rows are then written at
// their offsets in any order, into a temporary file renamed into place by finish() (a writer
// destroyed without finish() removes it).
class SafetensorsStream {
 public:
  struct Decl {
    std::string name, dtype;  // "F32" | "I32"
    std::vector<int64_t> shape;
  };
  SafetensorsStream(const std::string& path, const std::vector<Decl>& tensors,
                    const std::map<std::string, std::string>& metadata);
  ~SafetensorsStream();
  // Writes `count` elements of tensor `name` starting at element `first` (4 bytes each).
  void write(const std::string& name, int64_t first, const void* data, int64_t count);
  void finish();

 private:
  std::string path_;
  std::unique_ptr<TempFile> tmp_;
  void* file_ = nullptr;
  uint64_t data_start_ = 0;
  std::map<std::string, std::pair<uint64_t, int64_t>> place_;  // name -> byte offset in the data section, elements
};

}  // namespace memsig
