// sources.h — the state source of a model of any kind (models/any_model.h), from a registry keyed
// by the model's format like the model kinds themselves: a char LM's layers (plain or
// bigram-factorized), an n-gram model's context, a LAS model's listener layers and speller query.
// `state_kind` is the char LM's c | h | ch (empty: the cell's default).
//
// The data a kind is probed on: a text corpus (--corpus, or --train/--valid/--test) unless the kind
// registers a reader of data folders (`memsig signature --data DIR`): a LAS model reads a speech
// set, transcripts whose batches carry features (probe/las_source.h).
#pragma once
#include <functional>
#include <memory>
#include <string>

#include "corpora/corpus.h"
#include "models/any_model.h"
#include "probe/state_source.h"

namespace memsig {

using StateSourceMaker = std::function<std::unique_ptr<StateSource>(const AnyModel&, const std::string& state_kind)>;
void register_state_source(const std::string& format, StateSourceMaker make);  // replaces one of the same format

std::unique_ptr<StateSource> state_source(const AnyModel& model, const std::string& state_kind = "");

using ProbeDataReader = std::function<Corpus(const AnyModel&, const std::string& dir, bool quiet)>;
void register_probe_data(const std::string& format, ProbeDataReader read);  // replaces one of the same format
// The reader of data folders for models of this format; null: the kind is probed on text corpora.
const ProbeDataReader* probe_data_reader(const std::string& format);

}  // namespace memsig
