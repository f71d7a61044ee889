#include "engine/safetensors.h"

#include <unistd.h>

#include <cstdio>
#include <algorithm>
#include <cstring>
#include <stdexcept>
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

SafeTensors load_safetensors(const std::string& path) { return parse_safetensors(read_file(path), path); }

SafeTensors parse_safetensors(const std::string& bytes, const std::string& path) {
  if (bytes.size() < 8) throw FileError(path, "not a safetensors file (shorter than its 8-byte header length)");
  uint64_t n = 0;
  for (int i = 0; i < 8; ++i) n |= (uint64_t)(unsigned char)bytes[i] << (8 * i);
  if (bytes.size() > 8 && bytes[8] != '{') throw FileError(path, "not a safetensors file (no JSON header after the 8-byte length)");
  if (n > kMaxHeaderBytes) throw FileError(path, "header length " + std::to_string(n) + " is over the format's 100 MB limit");
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
  struct Span { uint64_t begin, end; std::string name; };
  std::vector<Span> spans;
  for (auto& [name, entry] : header.items()) {
    if (name == "__metadata__") {
      if (!entry.is_object()) throw FileError(path, "__metadata__ is not an object");
      for (auto& [k, v] : entry.items()) {
        if (!v.is_string()) throw FileError(path, "__metadata__." + k + " is not a string");
        st.metadata[k] = v.get<std::string>();
      }
      continue;
    }
    const std::string tensor = name;  // (a lambda may not capture a structured binding before C++20)
    auto bad = [&](const std::string& what) { throw FileError(path, "tensor '" + tensor + "' " + what); };
    if (!entry.is_object() || !entry.contains("dtype") || !entry.contains("shape") || !entry.contains("data_offsets"))
      bad("needs dtype, shape and data_offsets");
    if (!entry["dtype"].is_string()) bad("has a dtype that is not a string");
    std::string dtype = entry["dtype"].get<std::string>();
    if (dtype != "F32") bad("has dtype " + dtype + " (memsig reads F32)");
    const json& jshape = entry["shape"];
    const json& joffs = entry["data_offsets"];
    if (!jshape.is_array()) bad("has a shape that is not an array");
    std::vector<int64_t> shape;
    uint64_t numel = 1;
    for (auto& d : jshape) {
      if (!d.is_number_unsigned()) bad("has a shape entry that is not a non-negative integer: " + d.dump());
      uint64_t v = d.get<uint64_t>();
      if (v > (uint64_t)kMaxElements || __builtin_mul_overflow(numel, v, &numel) || numel > (uint64_t)kMaxElements)
        bad("has a shape too large to hold: " + jshape.dump());
      shape.push_back((int64_t)v);
    }
    if (!joffs.is_array() || joffs.size() != 2 || !joffs[0].is_number_unsigned() || !joffs[1].is_number_unsigned())
      bad("has bad data_offsets (two non-negative integers)");
    uint64_t begin = joffs[0].get<uint64_t>(), end = joffs[1].get<uint64_t>();
    if (begin > end) bad("has bad data_offsets (begin after end)");
    if (end > data_size)
      throw FileError(path, "truncated: tensor '" + name + "' ends at byte " + std::to_string(end) + " of a " +
                                std::to_string(data_size) + "-byte data section");
    if (end - begin != numel * sizeof(float)) bad("byte size does not match shape " + jshape.dump());
    Tensor t(shape);  // bounded by the file's own size, checked above
    std::memcpy(t.ptr(), data + begin, end - begin);
    st.tensors[name] = std::move(t);
    spans.push_back({begin, end, name});
  }
  // The data section is covered exactly once: no overlapping (aliased) tensors and no holes.
  std::sort(spans.begin(), spans.end(),
            [](const Span& a, const Span& b) { return a.begin != b.begin ? a.begin < b.begin : a.end < b.end; });
  uint64_t at = 0;
  for (size_t i = 0; i < spans.size(); ++i) {
    if (spans[i].begin < at)
      throw FileError(path, "tensors '" + spans[i - 1].name + "' and '" + spans[i].name + "' overlap in the data section");
    if (spans[i].begin > at)
      throw FileError(path, "bytes " + std::to_string(at) + ".." + std::to_string(spans[i].begin) + " of the data section belong to no tensor");
    at = spans[i].end;
  }
  if (at != data_size)
    throw FileError(path, std::to_string(data_size - at) + " bytes after the last tensor belong to no tensor");
  return st;
}

SafetensorsStream::SafetensorsStream(const std::string& path, const std::vector<Decl>& tensors,
                                     const std::map<std::string, std::string>& metadata)
    : path_(path), tmp_(std::make_unique<TempFile>(path)) {
  json header = json::object();
  if (!metadata.empty()) header["__metadata__"] = metadata;
  uint64_t offset = 0;
  for (auto& t : tensors) {
    if (t.dtype != "F32" && t.dtype != "I32") throw std::invalid_argument("SafetensorsStream: dtype " + t.dtype);
    int64_t n = numel_of(t.shape);
    uint64_t bytes = (uint64_t)n * 4;
    header[t.name] = {{"dtype", t.dtype}, {"shape", t.shape}, {"data_offsets", {offset, offset + bytes}}};
    place_[t.name] = {offset, n};
    offset += bytes;
  }
  std::string h = header.dump();
  while (h.size() % 8) h += ' ';
  FILE* f = std::fopen(tmp_->path().c_str(), "wb");
  if (!f) throw FileError(path, "cannot open for writing");
  file_ = f;
  unsigned char len[8];
  for (int i = 0; i < 8; ++i) len[i] = (unsigned char)((uint64_t)h.size() >> (8 * i));
  data_start_ = 8 + h.size();
  if (std::fwrite(len, 1, 8, f) != 8 || std::fwrite(h.data(), 1, h.size(), f) != h.size() ||
      (offset > 0 && (std::fseek(f, (long)(data_start_ + offset - 1), SEEK_SET) != 0 || std::fputc(0, f) == EOF))) {
    std::fclose(f);
    file_ = nullptr;
    throw FileError(path, "write failed (disk full?)");
  }
}

SafetensorsStream::~SafetensorsStream() {
  if (file_) std::fclose((FILE*)file_);  // the TempFile removes the unfinished file
}

void SafetensorsStream::write(const std::string& name, int64_t first, const void* data, int64_t count) {
  if (!file_) throw std::logic_error("SafetensorsStream: write after finish()");
  auto it = place_.find(name);
  if (it == place_.end() || first < 0 || count < 0 || first + count > it->second.second)
    throw std::invalid_argument("SafetensorsStream: write outside tensor '" + name + "'");
  FILE* f = (FILE*)file_;
  if (std::fseek(f, (long)(data_start_ + it->second.first + (uint64_t)first * 4), SEEK_SET) != 0 ||
      std::fwrite(data, 4, (size_t)count, f) != (size_t)count)
    throw FileError(path_, "write failed (disk full?)");
}

void SafetensorsStream::finish() {
  if (!file_) throw std::logic_error("SafetensorsStream: finish() called twice");
  FILE* f = (FILE*)file_;
  file_ = nullptr;
  bool ok = std::fflush(f) == 0;
  ok = std::fclose(f) == 0 && ok;
  if (!ok) throw FileError(path_, "cannot write file (disk full?)");
  tmp_->commit();
}

}  // namespace memsig
