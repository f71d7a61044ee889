#include "models/any_model.h"

#include "models/arpa.h"
#include "models/model_file.h"

namespace memsig {

bool is_arpa_path(const std::string& path) {
  const std::string ext = ".arpa";
  return path.size() > ext.size() && path.compare(path.size() - ext.size(), ext.size(), ext) == 0;
}

AnyModel load_any_model(const std::string& path) {
  AnyModel m;
  if (is_arpa_path(path)) {
    auto ngram = std::make_shared<NgramLM>(read_arpa(path));
    m.ngram = ngram;
    m.lm = ngram;
  } else {
    std::shared_ptr<const CharLM> charlm = load_model(path);
    m.charlm = charlm;
    m.lm = charlm;
  }
  return m;
}

}  // namespace memsig
