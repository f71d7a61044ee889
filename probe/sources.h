// sources.h — the state source of a model of any kind (models/any_model.h), from a registry keyed
// by the model's format like the model kinds themselves: a char LM's layers (plain or
// bigram-factorized), an n-gram model's context. `state_kind` is the char LM's c | h | ch (empty:
// the cell's default).
#pragma once
#include <functional>
#include <memory>
#include <string>

#include "models/any_model.h"
#include "probe/state_source.h"

namespace memsig {

using StateSourceMaker = std::function<std::unique_ptr<StateSource>(const AnyModel&, const std::string& state_kind)>;
void register_state_source(const std::string& format, StateSourceMaker make);  // replaces one of the same format

std::unique_ptr<StateSource> state_source(const AnyModel& model, const std::string& state_kind = "");

}  // namespace memsig
