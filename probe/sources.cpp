#include "probe/sources.h"

#include <stdexcept>

#include "models/charlm.h"
#include "models/ngram.h"
#include "probe/charlm_source.h"
#include "probe/las_source.h"
#include "probe/ngram_source.h"

namespace memsig {

namespace {

// The two registries below are tables of (model format, value), a value per format.
template <class T>
using Table = std::vector<std::pair<std::string, T>>;

template <class T>
const T* find(const Table<T>& table, const std::string& format) {
  for (auto& [f, v] : table)
    if (f == format) return &v;
  return nullptr;
}

template <class T>
T* entry(Table<T>& table, const std::string& format) {  // the format's value, added empty if missing
  for (auto& [f, v] : table)
    if (f == format) return &v;
  table.push_back({format, T{}});
  return &table.back().second;
}

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
    StateSourceMaker las = [](const AnyModel& m, const std::string& kind) -> std::unique_ptr<StateSource> {
      if (!kind.empty() && kind != "h")
        throw std::invalid_argument("a LAS model's states are its layers' outputs (h): --state " + kind + " does not apply");
      return las_state_source(m.as<LAS>());
    };
    return std::vector<std::pair<std::string, StateSourceMaker>>{
        {"memsig-charlm", charlm}, {kFactorizedFormat, charlm}, {"arpa", ngram}, {kLasFormat, las}};
  }();
  return table;
}

std::vector<std::pair<std::string, ProbeDataReader>>& data_readers() {
  static std::vector<std::pair<std::string, ProbeDataReader>> table = [] {
    ProbeDataReader speech = [](const AnyModel& m, const std::string& dir, bool quiet) {
      return speech_corpus(m.as<LAS>(), dir, quiet);
    };
    return std::vector<std::pair<std::string, ProbeDataReader>>{{kLasFormat, speech}};
  }();
  return table;
}

}  // namespace

void register_state_source(const std::string& format, StateSourceMaker make) {
  *entry(makers(), format) = std::move(make);
}

std::unique_ptr<StateSource> state_source(const AnyModel& model, const std::string& state_kind) {
  if (const StateSourceMaker* make = find(makers(), model.format)) return (*make)(model, state_kind);
  throw std::invalid_argument("models of format '" + model.format + "' have no state source for the probe");
}

void register_probe_data(const std::string& format, ProbeDataReader read) {
  *entry(data_readers(), format) = std::move(read);
}

const ProbeDataReader* probe_data_reader(const std::string& format) {
  return find(data_readers(), format);
}

}  // namespace memsig
