#include "probe/sources.h"

#include <stdexcept>

#include "probe/charlm_source.h"
#include "probe/ngram_source.h"

namespace memsig {

std::unique_ptr<StateSource> state_source(const AnyModel& model, const std::string& state_kind) {
  if (model.charlm) return std::make_unique<CharLMSource>(model.charlm, state_kind);
  if (!state_kind.empty() && state_kind != "context")
    throw std::invalid_argument("an n-gram model's state is its context: --state " + state_kind + " does not apply");
  return std::make_unique<NgramSource>(model.ngram);
}

}  // namespace memsig
