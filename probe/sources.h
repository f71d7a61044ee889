// sources.h — the state source of a model of any kind (models/any_model.h): a char LM's layers, or
// an n-gram model's context. `state_kind` is the char LM's c | h | ch (empty: the cell's default).
#pragma once
#include <memory>
#include <string>

#include "models/any_model.h"
#include "probe/state_source.h"

namespace memsig {

std::unique_ptr<StateSource> state_source(const AnyModel& model, const std::string& state_kind = "");

}  // namespace memsig
