// commands.h — each memsig subcommand registers itself on the CLI11 app.
#pragma once
#include <CLI/CLI.hpp>

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
void add_ngram(CLI::App& app);

// Options every command shares: --threads.
void add_common(CLI::App* cmd);

}  // namespace memsig::cli
