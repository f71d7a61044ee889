#include "engine/safetensors.h"

#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>

#include "engine/files.h"

namespace memsig {

using json = nlohmann::json;

const Tensor& SafeTensors::at(const std::string& path, const std::string& name) const {
  auto it = tensors.find(name);
  if (it == tensors.end()) throw FileError(path, "missing tensor '" + name + "'");
  return it->second;
}

void save_safetensors(const std::string& path, const std::vector<std::pair<std::string, const Tensor*>>& tensors,
                      const std::map<std::string, std::string>& metadata) {
  json header = json::object();
  if (!metadata.empty()) header["__metadata__"] = metadata;
  uint64_t offset = 0;
  for (auto& [name, t] : tensors) {
    uint64_t bytes = (uint64_t)t->numel() * sizeof(float);
    header[name] = {{"dtype", "F32"}, {"shape", t->shape}, {"data_offsets", {offset, offset + bytes}}};
    offset += bytes;
  }
  std::string h = header.dump();
  while (h.size() % 8) h += ' ';  // the data section starts 8-byte aligned
  write_atomically(path, [&](const std::string& tmp) {
    std::ofstream f(tmp, std::ios::binary);
    if (!f) throw FileError(path, "cannot open for writing");
    uint64_t n = h.size();
    unsigned char len[8];
    for (int i = 0; i < 8; ++i) len[i] = (unsigned char)(n >> (8 * i));
    f.write((const char*)len, 8);
    f.write(h.data(), h.size());
    for (auto& [name, t] : tensors) f.write((const char*)t->ptr(), t->numel() * sizeof(float));
    f.flush();
    if (!f) throw FileError(path, "write failed");
  });
}

SafeTensors load_safetensors(const std::string& path) {
  std::string bytes = read_file(path);
  if (bytes.size() < 8) throw FileError(path, "not a safetensors file (shorter than its 8-byte header length)");
  uint64_t n = 0;
  for (int i = 0; i < 8; ++i) n |= (uint64_t)(unsigned char)bytes[i] << (8 * i);
  if (bytes.size() > 8 && bytes[8] != '{') throw FileError(path, "not a safetensors file (no JSON header after the 8-byte length)");
  if (n > bytes.size() - 8) throw FileError(path, "truncated: header says " + std::to_string(n) + " bytes of JSON, file has " + std::to_string(bytes.size() - 8));
  json header;
  try {
    header = json::parse(bytes.begin() + 8, bytes.begin() + 8 + n);
  } catch (const std::exception& e) {
    throw FileError(path, std::string("malformed JSON header: ") + e.what());
  }
  if (!header.is_object()) throw FileError(path, "malformed header: not a JSON object");
  const char* data = bytes.data() + 8 + n;
  uint64_t data_size = bytes.size() - 8 - n;
  SafeTensors st;
  for (auto& [name, entry] : header.items()) {
    if (name == "__metadata__") {
      if (!entry.is_object()) throw FileError(path, "__metadata__ is not an object");
      for (auto& [k, v] : entry.items()) {
        if (!v.is_string()) throw FileError(path, "__metadata__." + k + " is not a string");
        st.metadata[k] = v.get<std::string>();
      }
      continue;
    }
    try {
      std::string dtype = entry.at("dtype").get<std::string>();
      if (dtype != "F32") throw FileError(path, "tensor '" + name + "' has dtype " + dtype + " (memsig reads F32)");
      std::vector<int64_t> shape = entry.at("shape").get<std::vector<int64_t>>();
      auto offs = entry.at("data_offsets").get<std::vector<uint64_t>>();
      if (offs.size() != 2 || offs[0] > offs[1]) throw FileError(path, "tensor '" + name + "' has bad data_offsets");
      if (offs[1] > data_size) throw FileError(path, "truncated: tensor '" + name + "' ends at byte " + std::to_string(offs[1]) + " of a " + std::to_string(data_size) + "-byte data section");
      for (int64_t d : shape) if (d < 0) throw FileError(path, "tensor '" + name + "' has a negative dimension");
      Tensor t(shape);
      if (offs[1] - offs[0] != (uint64_t)t.numel() * sizeof(float))
        throw FileError(path, "tensor '" + name + "' byte size does not match shape " + t.shape_str());
      std::memcpy(t.ptr(), data + offs[0], offs[1] - offs[0]);
      st.tensors[name] = std::move(t);
    } catch (const json::exception& e) {
      throw FileError(path, "malformed entry for tensor '" + name + "': " + e.what());
    }
  }
  return st;
}

}  // namespace memsig
