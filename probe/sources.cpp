#include "probe/sources.h"

#include <stdexcept>

#include "models/charlm.h"
#include "models/ngram.h"
#include "probe/charlm_source.h"
#include "probe/ngram_source.h"

namespace memsig {

namespace {

std::vector<std::pair<std::string, StateSourceMaker>>& makers() {
  static std::vector<std::pair<std::string, StateSourceMaker>> table = [] {
    StateSourceMaker charlm = [](const AnyModel& m, const std::string& kind) -> std::unique_ptr<StateSource> {
      return std::make_unique<CharLMSource>(m.as<CharLM>(), kind);
    };
    StateSourceMaker ngram = [](const AnyModel& m, const std::string& kind) -> std::unique_ptr<StateSource> {
      if (!kind.empty() && kind != "context")
        throw std::invalid_argument("an n-gram model's state is its context: --state " + kind + " does not apply");
      return std::make_unique<NgramSource>(m.as<NgramLM>());
    };
    return std::vector<std::pair<std::string, StateSourceMaker>>{
        {"memsig-charlm", charlm}, {kFactorizedFormat, charlm}, {"arpa", ngram}};
  }();
  return table;
}

}  // namespace

void register_state_source(const std::string& format, StateSourceMaker make) {
  for (auto& [f, m] : makers())
    if (f == format) {
      m = std::move(make);
      return;
    }
  makers().push_back({format, std::move(make)});
}

std::unique_ptr<StateSource> state_source(const AnyModel& model, const std::string& state_kind) {
  for (auto& [f, make] : makers())
    if (f == model.format) return make(model, state_kind);
  throw std::invalid_argument("models of format '" + model.format + "' have no state source for the probe");
}

}  // namespace memsig
