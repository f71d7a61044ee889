// commands.h — each memsig subcommand registers itself on the CLI11 app.
#pragma once
#include <CLI/CLI.hpp>
#include <string>
#include <vector>

#include "corpora/symbols.h"
#include "engine/files.h"

namespace memsig::cli {

void add_train(CLI::App& app);
void add_eval(CLI::App& app);
void add_sample(CLI::App& app);
void add_corpus(CLI::App& app);
void add_signature(CLI::App& app);
void add_diff(CLI::App& app);
void add_marginal(CLI::App& app);
void add_figure(CLI::App& app);
void add_bench(CLI::App& app);
void add_states(CLI::App& app);
void add_ngram(CLI::App& app);
void add_speech(CLI::App& app);
void add_las(CLI::App& app);

// Options every command shares: --threads.
void add_common(CLI::App* cmd);

// The files a corpus spec reads, named by the option that gave it (for check_outputs).
std::vector<NamedPath> corpus_inputs(const std::string& option, const std::string& spec);

// An output folder (signature --out DIR): a folder or a new path, and no input may be one of the
// files memsig writes there (signature*, marginal*, control_*).
void check_output_folder(const std::string& dir, const std::vector<NamedPath>& inputs);

// The data a command reads: --corpus NAME [--split S] or --text FILE.
struct DataOptions {
  std::string corpus, split = "test", text;
  void add_to(CLI::App* cmd);
  std::vector<memsig::Segment> load() const;  // CLI::ValidationError when neither is given
  std::string describe() const;               // "ptb:test" or the text file
  std::vector<NamedPath> inputs() const;      // the files it reads
};

}  // namespace memsig::cli
