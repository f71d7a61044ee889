// any_model.h — a model file of any kind, for the commands that take --model: an ARPA n-gram
// model (a name ending in .arpa) or a safetensors char LM (anything else).
#pragma once
#include <memory>
#include <string>

#include "models/charlm.h"
#include "models/ngram.h"

namespace memsig {

struct AnyModel {
  std::shared_ptr<const LanguageModel> lm;  // always set
  std::shared_ptr<const CharLM> charlm;     // set for a char LM
  std::shared_ptr<const NgramLM> ngram;     // set for an n-gram model
};

// What a model file is, by its content (not its name): safetensors (a char LM), ARPA text (an
// n-gram model), or gzip (refused with a hint to unpack it).
enum class ModelFileKind { Safetensors, Arpa, Gzip, Unknown };
ModelFileKind sniff_model_file(const std::string& path);
AnyModel load_any_model(const std::string& path);  // FileError naming the problem

}  // namespace memsig
