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

bool is_arpa_path(const std::string& path);
AnyModel load_any_model(const std::string& path);  // FileError naming the problem

}  // namespace memsig
