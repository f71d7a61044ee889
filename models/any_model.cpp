#include "models/any_model.h"

#include <cstring>
#include <fstream>

#include "engine/files.h"
#include "models/arpa.h"
#include "models/charlm.h"
#include "models/ngram.h"
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

namespace {

std::vector<ModelKind>& kinds() {
  static std::vector<ModelKind> table = [] {
    auto charlm = [](const std::string& path) {
      std::shared_ptr<const CharLM> m = load_model(path);
      return AnyModel{m->file_metadata().at("format"), m, m};
    };
    auto arpa = [](const std::string& path) {
      auto m = std::make_shared<const NgramLM>(read_arpa(path));
      return AnyModel{"arpa", m, m};
    };
    return std::vector<ModelKind>{{"memsig-charlm", "char LM (LSTM/GRU)", charlm},
                                  {kFactorizedFormat, "bigram-factorized char LM", charlm},
                                  {"arpa", "ARPA n-gram model", arpa}};
  }();
  return table;
}

}  // namespace

void register_model_kind(const ModelKind& kind) {
  for (auto& k : kinds())
    if (k.format == kind.format) {
      k = kind;
      return;
    }
  kinds().push_back(kind);
}

const ModelKind* find_model_kind(const std::string& format) {
  for (auto& k : kinds())
    if (k.format == format) return &k;
  return nullptr;
}

std::vector<std::string> model_formats() {
  std::vector<std::string> f;
  for (auto& k : kinds()) f.push_back(k.format);
  return f;
}

AnyModel load_any_model(const std::string& path) {
  std::string format;
  switch (sniff_model_file(path)) {
    case ModelFileKind::Gzip:
      throw FileError(path, "is gzip-compressed: unpack it first (gunzip -k " + path + ")");
    case ModelFileKind::Arpa:
      format = "arpa";
      break;
    case ModelFileKind::Safetensors:
    case ModelFileKind::Unknown: {  // the safetensors reader names what is wrong
      SafeTensors st = load_safetensors(path);
      auto it = st.metadata.find("format");
      if (it == st.metadata.end()) throw FileError(path, "metadata has no 'format': not a memsig model file");
      format = it->second;
      break;
    }
  }
  const ModelKind* kind = find_model_kind(format);
  if (!kind) {
    std::string known;
    for (auto& f : model_formats()) known += (known.empty() ? "" : ", ") + f;
    throw FileError(path, "model format '" + format + "' is not one memsig knows (" + known + ")");
  }
  return kind->load(path);
}

void select_corpus(CharLM& model, const std::string& path, const Corpus& corpus) {
  try {
    model.select_corpus(corpus);
  } catch (const std::invalid_argument& e) {
    throw FileError(path, e.what());
  }
}

void select_corpus_name(CharLM& model, const std::string& path, const std::string& corpus) {
  try {
    model.select_domain(corpus);
  } catch (const std::invalid_argument& e) {
    throw FileError(path, e.what());
  }
}

void select_corpus(const AnyModel& model, const std::string& path, const Corpus& corpus) {
  // The char LM kinds are loaded as mutable objects (load_model) and shared as const: selecting
  // the corpus is the one change made to them after loading, before any use.
  if (model.format == kFactorizedFormat) select_corpus(*std::const_pointer_cast<CharLM>(model.as<CharLM>()), path, corpus);
}

void select_corpus_name(const AnyModel& model, const std::string& path, const std::string& corpus) {
  if (model.format != kFactorizedFormat) return;
  CharLM& lm = *std::const_pointer_cast<CharLM>(model.as<CharLM>());
  if (lm.domain_lambda()) select_corpus_name(lm, path, corpus);
}

}  // namespace memsig
