// Models learn something small, and training resumes exactly after a stop.
#include <catch2/catch.hpp>
#include <unistd.h>
#include <cmath>
#include <filesystem>

#include "corpora/corpus.h"
#include "engine/files.h"
#include "models/model_file.h"
#include "temp_files.h"
#include "models/sample.h"
#include "models/train_charlm.h"

using namespace memsig;
using memsig::test::temp_path;

namespace {
// A corpus where each line repeats one of a few short words: predictable from context.
Corpus toy_corpus() {
  Corpus c;
  c.name = "toy";
  const char* words[] = {"abc", "hello", "xyz", "memory"};
  Rng rng(9);
  for (int i = 0; i < 240; ++i) {
    std::string w = words[rng.below(4)], line;
    for (int k = 0; k < 4; ++k) line += (k ? " " : "") + w;
    (i % 10 == 0 ? c.valid : i % 10 == 1 ? c.test : c.train).push_back(normalize(line));
  }
  return c;
}
}  // namespace

TEST_CASE("GRU and LSTM language models learn a repetitive toy corpus", "[models]") {
  Corpus c = toy_corpus();
  for (const char* cell : {"gru", "lstm"}) {
    SECTION(cell) {
      TrainOptions o;
      o.model.cell = parse_cell(cell);
      o.model.hidden = 32; o.model.embed = 8;
      o.epochs = 12; o.batch = 16; o.lr = 1e-2f; o.quiet = true;
      o.out = temp_path(std::string(cell) + ".safetensors");
      Rng rng(1);
      double untrained = evaluate(CharLM(o.model, rng), c.test).bpc;
      TrainResult r = train_charlm(c, o);
      double trained = evaluate(*load_model(o.out), c.test).bpc;
      INFO("untrained " << untrained << " bpc, trained " << trained << " bpc");
      REQUIRE(untrained > 4.0);   // ~log2(34) when untrained
      REQUIRE(trained < 1.0);     // after the first letter, every symbol is determined
      REQUIRE(r.best_valid_bpc < 1.0);
      Rng srng(2);
      std::string s = sample_text(*load_model(o.out), srng, "memo", 40, 0.1f);
      REQUIRE(s.rfind("memory memory", 0) == 0);  // a cold sample continues the pattern
      std::filesystem::remove(o.out);
      std::filesystem::remove(o.out + ".ckpt");
    }
  }
}

TEST_CASE("a stopped training run resumes from its checkpoint to the same weights", "[models]") {
  Corpus c = toy_corpus();
  TrainOptions o;
  o.model.cell = Cell::LSTM; o.model.hidden = 8; o.model.embed = 4; o.model.dropout = 0.2f;
  o.batch = 16; o.lr = 5e-3f; o.quiet = true;
  o.out = temp_path("straight.safetensors");
  o.epochs = 3;
  train_charlm(c, o);
  TrainOptions p = o;
  p.out = temp_path("resumed.safetensors");
  p.epochs = 1;
  train_charlm(c, p);  // stops after one epoch, leaving a checkpoint
  p.epochs = 3;
  p.resume = true;
  train_charlm(c, p);
  auto a = load_safetensors(o.out + ".ckpt"), b = load_safetensors(p.out + ".ckpt");
  for (auto& [name, t] : a.tensors) REQUIRE(t.data == b.tensors.at(name).data);
  for (auto& f : {o.out, p.out}) { std::filesystem::remove(f); std::filesystem::remove(f + ".ckpt"); }
}
