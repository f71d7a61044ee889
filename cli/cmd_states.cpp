// cmd_states.cpp — `memsig states`: every layer's per-step states over a split or text, to one
// safetensors file (layout in probe/state_dump.h).
#include <cstdio>
#include <filesystem>

#include "cli/commands.h"
#include "cli/options.h"
#include "cli/device_option.h"
#include "corpora/corpus.h"
#include "models/any_model.h"
#include "models/model_file.h"
#include "probe/state_dump.h"

namespace memsig::cli {

void add_states(CLI::App& app) {
  auto* cmd = app.add_subcommand("states", "dump every layer's per-step states (h, and c for LSTMs) to a safetensors file");
  static std::string model_path, out;
  static DataOptions data;
  static int64_t max_segments = 0;
  cmd->add_option("--model", model_path)->required();
  data.add_to(cmd);
  cmd->add_option("--max-segments", max_segments, "only the first N segments (0 = all)")->capture_default_str()->check(integer_in(0, kNoLimit));
  cmd->add_option("--out", out, "the .safetensors file to write")->required();
  add_common(cmd);
  add_device(cmd);
  cmd->callback([] {
    std::vector<NamedPath> in = data.inputs();
    in.push_back({"--model", model_path});
    check_outputs(in, {{"--out", out}});
    auto model = load_model(model_path);
    if (data.corpus.empty() && data.text.empty()) throw CLI::ValidationError("needs --corpus or --text");
    std::vector<Segment> segs;
    if (!data.corpus.empty()) {
      Corpus c = load_corpus(data.corpus);
      select_corpus(*model, model_path, c);
      segs = c.split(data.split);
    } else {
      Corpus text;  // a --text file: a corpus named by the file (a domain-λ model has no λ for it)
      text.name = std::filesystem::path(data.text).filename().string();
      text.train = read_segments(data.text);
      select_corpus(*model, model_path, text);
      segs = std::move(text.train);
    }
    if (max_segments > 0 && (int64_t)segs.size() > max_segments) segs.resize(max_segments);
    auto info = dump_states(*model, segs, out, {{"data", data.describe()}, {"model_file", model_path}});
    std::printf("wrote %s: %lld rows from %lld segments, %.1f MiB\n", out.c_str(), (long long)info.rows,
                (long long)info.segments, info.bytes / 1048576.0);
  });
}

}  // namespace memsig::cli
