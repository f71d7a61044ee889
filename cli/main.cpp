// main.cpp — the memsig binary: parses the command line and reports errors in one line.
#include <cstdio>
#include <exception>
#include <string>

#include "cli/commands.h"
#include "engine/allocator.h"
#include "engine/kernels.h"

int main(int argc, char** argv) {
  memsig::keep_freed_memory();  // reuse each step's freed tensors instead of faulting in fresh pages
  memsig::set_threads(0);  // all cores unless --threads says otherwise
  CLI::App app{"memsig: train character language models and read their memory signatures", "memsig"};
  app.require_subcommand(1);
  // One line per error, for command-line mistakes as for everything else.
  app.failure_message([](const CLI::App*, const CLI::Error& e) {
    return std::string("memsig: error: ") + e.what() + " (see --help)\n";
  });
  memsig::cli::add_train(app);
  memsig::cli::add_eval(app);
  memsig::cli::add_sample(app);
  memsig::cli::add_corpus(app);
  memsig::cli::add_signature(app);
  memsig::cli::add_states(app);
  memsig::cli::add_diff(app);
  memsig::cli::add_marginal(app);
  memsig::cli::add_figure(app);
  memsig::cli::add_bench(app);
  memsig::cli::add_ngram(app);
  memsig::cli::add_speech(app);
  memsig::cli::add_las(app);
  if (argc == 1) {  // no command: say what there is
    std::printf("%s", app.help().c_str());
    return 0;
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "memsig: error: %s\n", e.what());
    return 1;
  }
  return 0;
}
