// any_model.h — a model file of any kind, for the commands that take --model, through an open
// registry of model kinds. A kind is known by the `format` its files carry (the safetensors
// metadata key `format`; ARPA text, which has no metadata, is the format "arpa") and says how to
// load such a file. The probe keeps a matching registry of state sources (probe/sources.h), so a
// new model kind plugs in by registering a loader here and a state source there; no command
// names the kinds.
#pragma once
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "corpora/corpus.h"
#include "models/lm.h"

namespace memsig {

class CharLM;

struct AnyModel {
  std::string format;                        // the kind: "memsig-charlm", "memsig-charlm-factorized", "arpa", ...
  std::shared_ptr<const LanguageModel> lm;   // set when the model is a language model
  std::shared_ptr<const void> object;        // the model itself, of the kind's own type
  template <class T>
  std::shared_ptr<const T> as() const { return std::static_pointer_cast<const T>(object); }
};

struct ModelKind {
  std::string format;
  std::string description;                               // "char LM (LSTM/GRU)", for messages
  std::function<AnyModel(const std::string& path)> load;  // FileError naming the problem
};

// Built in: memsig-charlm and memsig-charlm-factorized (models/model_file.h), arpa (models/arpa.h).
void register_model_kind(const ModelKind& kind);  // replaces a kind of the same format
const ModelKind* find_model_kind(const std::string& format);  // null when unknown
std::vector<std::string> model_formats();

// What a model file is, by its content (not its name): safetensors (its metadata names the
// format), ARPA text (an n-gram model), or gzip (refused with a hint to unpack it).
enum class ModelFileKind { Safetensors, Arpa, Gzip, Unknown };
ModelFileKind sniff_model_file(const std::string& path);
AnyModel load_any_model(const std::string& path);  // FileError naming the problem

// The corpus a model is about to read. A model whose computation depends on it (a factorized char
// LM with domain λ: CharLM::select_corpus) takes that corpus's λ; other kinds ignore it.
// FileError naming the model file when it has nothing for that corpus.
void select_corpus(const AnyModel& model, const std::string& path, const Corpus& corpus);
void select_corpus(CharLM& model, const std::string& path, const Corpus& corpus);
// By name only (sample: no text is read), without the digest check.
void select_corpus_name(CharLM& model, const std::string& path, const std::string& corpus);
void select_corpus_name(const AnyModel& model, const std::string& path, const std::string& corpus);

}  // namespace memsig
