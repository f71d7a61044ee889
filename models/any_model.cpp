#include "models/any_model.h"

#include <cstring>
#include <fstream>

#include "engine/files.h"
#include "models/arpa.h"
#include "models/model_file.h"

namespace memsig {

ModelFileKind sniff_model_file(const std::string& path) {
  require_regular_file(path);
  std::ifstream f(path, std::ios::binary);
  if (!f) throw FileError(path, "cannot open for reading");
  std::string head(65536, '\0');
  f.read(&head[0], (std::streamsize)head.size());
  head.resize((size_t)f.gcount());
  if (head.size() >= 2 && (unsigned char)head[0] == 0x1f && (unsigned char)head[1] == 0x8b) return ModelFileKind::Gzip;
  if (head.size() >= 9 && head[8] == '{') return ModelFileKind::Safetensors;  // u64 header length, then JSON
  // ARPA: text whose first non-blank line of substance is \data\ (comments may come before it).
  size_t at = 0;
  while (at < head.size()) {
    size_t end = head.find('\n', at);
    std::string line = head.substr(at, end == std::string::npos ? std::string::npos : end - at);
    while (!line.empty() && (line.back() == '\r' || line.back() == ' ' || line.back() == '\t')) line.pop_back();
    size_t b = line.find_first_not_of(" \t");
    if (b != std::string::npos && line.substr(b) == "\\data\\") return ModelFileKind::Arpa;
    if (end == std::string::npos) break;
    at = end + 1;
  }
  return ModelFileKind::Unknown;
}

AnyModel load_any_model(const std::string& path) {
  AnyModel m;
  switch (sniff_model_file(path)) {
    case ModelFileKind::Gzip:
      throw FileError(path, "is gzip-compressed: unpack it first (gunzip -k " + path + ")");
    case ModelFileKind::Arpa: {
      auto ngram = std::make_shared<NgramLM>(read_arpa(path));
      m.ngram = ngram;
      m.lm = ngram;
      return m;
    }
    case ModelFileKind::Safetensors:
    case ModelFileKind::Unknown: {  // the safetensors reader names what is wrong
      std::shared_ptr<const CharLM> charlm = load_model(path);
      m.charlm = charlm;
      m.lm = charlm;
      return m;
    }
  }
  return m;
}

}  // namespace memsig
