// The bigram-factorized char LM: causal λ reads only what the model has read; the model learns a
// toy corpus, its file round-trips under its own format, and sampling carries λ's history.
#include <catch2/catch.hpp>

#include <cmath>
#include <filesystem>
#include <map>

#include "corpora/corpus.h"
#include "engine/files.h"
#include "models/any_model.h"
#include "models/bigram_lambda.h"
#include "models/model_file.h"
#include "models/sample.h"
#include "models/train_charlm.h"
#include "temp_files.h"

using namespace memsig;
using memsig::test::error_of;
using memsig::test::temp_path;

namespace {

// λ row r as a dense vector.
std::vector<float> dense_row(const LambdaRows& lam, int64_t r) {
  std::vector<float> d(lam.K, 0.0f);
  for (int e = lam.row_start[r]; e < lam.row_start[r + 1]; ++e) d[lam.index[e]] = lam.value[e];
  return d;
}

Corpus toy_corpus() {  // lines repeating one of a few words (as in test_models.cpp)
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

TEST_CASE("causal bigram lambda: zero prior, normalised counts of the bigrams read, nothing from the future", "[factorized]") {
  // Two sequences, time-major: "<s> a b a b" and "<s> c c c c".
  const int a = 3, b = 4, c = 5, T = 5, B = 2;
  std::vector<int32_t> in{kBos, kBos, a, c, b, c, a, c, b, c};
  auto lam = causal_bigram_lambda(in, T, B);
  REQUIRE(lam->K == kBigramBases);
  REQUIRE(lam->rows() == T * B);
  REQUIRE(lam->row_start[1] == 0);  // t = 0: no bigram read, λ = 0
  REQUIRE(lam->row_start[2] == 0);
  for (int t = 1; t < T; ++t)
    for (int s = 0; s < B; ++s) {
      auto d = dense_row(*lam, t * B + s);
      double sum = 0;
      for (float v : d) sum += v;
      REQUIRE(sum == Approx(1.0));  // normalised counts
    }
  // Sequence 0 at t = 4 has read <s>a, ab, ba, ab: λ(ab) = 2/4, λ(<s>a) = λ(ba) = 1/4.
  auto d = dense_row(*lam, 4 * B + 0);
  REQUIRE(d[bigram_index(a, b)] == Approx(0.5));
  REQUIRE(d[bigram_index(kBos, a)] == Approx(0.25));
  REQUIRE(d[bigram_index(b, a)] == Approx(0.25));
  REQUIRE(dense_row(*lam, 4 * B + 1)[bigram_index(c, c)] == Approx(0.75));
  // Changing what comes later (the targets of earlier steps) leaves earlier rows as they were.
  std::vector<int32_t> in2 = in;
  in2[3 * B + 0] = c;
  in2[4 * B + 0] = c;
  auto lam2 = causal_bigram_lambda(in2, T, B);
  for (int r = 0; r < 3 * B; ++r) REQUIRE(dense_row(*lam2, r) == dense_row(*lam, r));
  REQUIRE(dense_row(*lam2, 3 * B) != dense_row(*lam, 3 * B));
  // Symbols read before (sampling one at a time) give the same λ as reading them in this call.
  std::vector<int32_t> whole{kBos, a, b, a, b};
  auto all = causal_bigram_lambda(whole, 5, 1);
  auto tail = causal_bigram_lambda({a, b}, 2, 1, {kBos, a, b});
  REQUIRE(dense_row(*tail, 0) == dense_row(*all, 3));
  REQUIRE(dense_row(*tail, 1) == dense_row(*all, 4));
  // A basis switched off is dropped from every row; the others keep their weights.
  std::vector<uint8_t> on(kBigramBases, 1);
  on[bigram_index(a, b)] = 0;
  auto off = causal_bigram_lambda(whole, 5, 1, {}, on);
  auto d4 = dense_row(*off, 4);
  REQUIRE(d4[bigram_index(a, b)] == 0.0f);
  REQUIRE(d4[bigram_index(b, a)] == Approx(0.25));
}

TEST_CASE("a bigram-factorized LSTM and GRU learn a repetitive toy corpus, and their files keep their format", "[factorized][models]") {
  Corpus c = toy_corpus();
  for (const char* cell : {"lstm", "gru"}) {
    SECTION(cell) {
      TrainOptions o;
      o.model.cell = parse_cell(cell);
      o.model.factorized = Factorized::Bigram;
      o.model.hidden = 24; o.model.embed = 8;
      o.epochs = 10; o.batch = 16; o.lr = 1e-2f; o.quiet = true;
      o.out = temp_path(std::string("fact_") + cell + ".safetensors");
      Rng rng(1);
      CharLM untrained_model(o.model, rng);
      REQUIRE(untrained_model.rnn[0].u->value.shape == std::vector<int64_t>{gate_count(o.model.cell) * 24, kBigramBases});
      REQUIRE(untrained_model.rnn[0].v->value.shape == std::vector<int64_t>{kBigramBases, 8 + 24});
      double untrained = evaluate(untrained_model, c.test).bpc;
      TrainResult r = train_charlm(c, o);
      auto loaded = load_model(o.out);
      double trained = evaluate(*loaded, c.test).bpc;
      INFO("untrained " << untrained << " bpc, trained " << trained << " bpc");
      REQUIRE(untrained > 4.0);
      REQUIRE(trained < 1.0);
      REQUIRE(r.best_valid_bpc < 1.0);
      REQUIRE(loaded->cfg.factorized == Factorized::Bigram);
      REQUIRE(loaded->file_metadata().at("format") == kFactorizedFormat);
      REQUIRE(loaded->file_metadata().at("lambda") == "causal");
      // The bases matter: the base kernel alone (every λ_k = 0) predicts worse than the model.
      auto base = load_model(o.out);
      base->bases_on.assign(kBigramBases, 0);
      double base_bpc = evaluate(*base, c.test).bpc;
      INFO("base kernel alone " << base_bpc << " bpc");
      REQUIRE(base_bpc > trained + 0.05);
      Rng srng(2);
      std::string s = sample_text(*loaded, srng, "memo", 40, 0.1f);
      REQUIRE(s.rfind("memory memory", 0) == 0);
      std::filesystem::remove(o.out);
      std::filesystem::remove(o.out + ".ckpt");
    }
  }
}

TEST_CASE("sampling one symbol at a time carries lambda: same logits as reading the text at once", "[factorized]") {
  CharLMConfig cfg;
  cfg.cell = Cell::GRU;
  cfg.factorized = Factorized::Bigram;
  cfg.hidden = 6; cfg.embed = 4;
  Rng rng(4);
  CharLM m(cfg, rng);
  NoGrad no_grad;
  std::vector<int32_t> text{kBos, 7, 8, 7, 9, 10};
  const int T = (int)text.size(), V = cfg.vocab;
  LMForward whole = m.forward(text, T, 1, nullptr);
  std::vector<int32_t> head(text.begin(), text.begin() + 3), rest(text.begin() + 3, text.end());
  LMForward first = m.forward(head, 3, 1, nullptr);
  std::vector<float> h(first.states[0]->h_at(2), first.states[0]->h_at(2) + cfg.hidden);
  LMForward second = m.forward(rest, (int)rest.size(), 1, nullptr, {h.data()}, {}, head);
  for (int t = 0; t < (int)rest.size(); ++t)
    for (int j = 0; j < V; ++j)
      REQUIRE(second.logits->value.data[t * V + j] == Approx(whole.logits->value.data[(3 + t) * V + j]).margin(1e-5));
}

TEST_CASE("a factorized model file with a lambda mode this build does not compute is refused by name", "[factorized]") {
  CharLMConfig cfg;
  cfg.cell = Cell::LSTM;
  cfg.factorized = Factorized::Bigram;
  cfg.hidden = 4; cfg.embed = 3;
  Rng rng(4);
  CharLM m(cfg, rng);
  const std::string path = temp_path("fact_mode.safetensors");
  save_trainable(path, m, {{"lambda", "trigram"}});
  std::string err = error_of([&] { load_model(path); });
  REQUIRE_THAT(err, Catch::Contains(path) && Catch::Contains("'lambda' is 'trigram'"));
  // domain λ without the corpora's counts, or with counts that do not add up
  save_trainable(path, m, {{"lambda", "domain"}, {"lambda_window", "training split"}});
  REQUIRE_THAT(error_of([&] { load_model(path); }), Catch::Contains(path) && Catch::Contains("no 'lambda_domains'"));
  save_trainable(path, m, {{"lambda", "domain"}, {"lambda_window", "training split"},
                           {"lambda_domains", R"([{"corpus":"a","train_digest":"0","bigrams":5,"index":[3,2],"count":[2,3]}])"}});
  REQUIRE_THAT(error_of([&] { load_model(path); }), Catch::Contains("ascending bases"));
  save_trainable(path, m, {{"format", "memsig-charlm"}});  // a plain char LM's format with U and V beside
  REQUIRE(load_model(path)->cfg.factorized == Factorized::None);  // extra tensors are ignored, as for checkpoints
  std::filesystem::remove(path);
}

namespace {

// A mixture of two toy corpora that share their words' first letters but not the words: "A" says
// "cat", "cow", "B" says "dog", "den" (a mixture's parts as load_corpus makes them).
Corpus toy_mixture() {
  Corpus c;
  c.name = "A+B";
  Rng rng(5);
  for (const char* part : {"A", "B"}) {
    const std::vector<std::string> words = part[0] == 'A' ? std::vector<std::string>{"cat", "cow", "cab"}
                                                          : std::vector<std::string>{"dog", "den", "dim"};
    CorpusPart p{part};
    for (int i = 0; i < 200; ++i) {
      std::string w = words[rng.below(3)], line;
      for (int k = 0; k < 4; ++k) line += (k ? " " : "") + w;
      auto& split = i % 10 == 0 ? c.valid : i % 10 == 1 ? c.test : c.train;
      (i % 10 == 0 ? p.valid : i % 10 == 1 ? p.test : p.train)++;
      split.push_back(normalize(line));
    }
    c.parts.push_back(p);
  }
  return c;
}

}  // namespace

TEST_CASE("a mixture's parts: which corpus each segment of a split came from", "[factorized]") {
  Corpus c = toy_mixture();
  REQUIRE(c.parts.size() == 2);
  REQUIRE(c.part_of("train", 0) == 0);
  REQUIRE(c.part_of("train", c.parts[0].train - 1) == 0);
  REQUIRE(c.part_of("train", c.parts[0].train) == 1);
  REQUIRE(c.part_of("test", c.test.size() - 1) == 1);
  REQUIRE(c.part_split(1, "valid").size() == c.parts[1].valid);
  REQUIRE(c.part_split(1, "valid").front() == c.valid[c.parts[0].valid]);
  Corpus single = toy_corpus();
  REQUIRE(single.parts_or_self().size() == 1);
  REQUIRE(single.part_of("train", single.train.size() - 1) == 0);
}

TEST_CASE("domain lambda: each corpus's training-split bigram distribution, fixed over the segment, and the model learns with it",
          "[factorized][models]") {
  Corpus c = toy_mixture();
  TrainOptions o;
  o.model.cell = Cell::LSTM;
  o.model.factorized = Factorized::Bigram;
  o.model.lambda = LambdaMode::Domain;
  o.model.hidden = 16; o.model.embed = 8;
  o.epochs = 12; o.batch = 16; o.lr = 1e-2f; o.quiet = true;
  o.out = temp_path("fact_domain.safetensors");
  Rng rng(1);
  CharLM untrained_model(o.model, rng);
  for (int p = 0; p < 2; ++p) untrained_model.add_domain(count_domain_lambda(c.parts[p].name, c.part_split(p, "train")));
  const double untrained = evaluate_corpus(untrained_model, c, "test").bpc;
  TrainResult r = train_charlm(c, o);
  auto loaded = load_model(o.out);
  REQUIRE(loaded->cfg.lambda == LambdaMode::Domain);
  REQUIRE(loaded->file_metadata().at("lambda") == "domain");
  REQUIRE(loaded->file_metadata().at("lambda_window") == "training split");
  REQUIRE(loaded->domains.size() == 2);

  // The stored λ is each part's training split's normalised input-bigram counts, counted here
  // another way: (<s>, c1), (c1, c2), .., (c_{n-1}, c_n) of every training segment of the part.
  for (int p = 0; p < 2; ++p) {
    std::map<std::pair<int, int>, double> count;
    double total = 0;
    for (const Segment& seg : c.part_split(p, "train")) {
      std::vector<int> in{kBos};
      in.insert(in.end(), seg.begin(), seg.end());
      for (size_t j = 1; j < in.size(); ++j) { count[{in[j - 1], in[j]}] += 1; total += 1; }
    }
    const DomainLambda& d = loaded->domains[p];
    REQUIRE(d.corpus == c.parts[p].name);
    REQUIRE(d.train_digest == segments_digest(c.part_split(p, "train")));
    REQUIRE(d.index.size() == count.size());
    // The rows the model feeds its recurrent op: every step of a sequence of part p has that λ.
    const int T = 4, B = 2;
    std::vector<int32_t> inputs(T * B, kBos);
    auto lam = loaded->lambda_rows(inputs, T, B, {}, {c.parts[p].name, c.parts[1 - p].name});
    REQUIRE(lam->rows() == T * B);
    for (int t = 0; t < T; ++t) {
      auto row = dense_row(*lam, t * B + 0);
      double sum = 0;
      for (int a = 0; a < kNumSymbols; ++a)
        for (int b = 0; b < kNumSymbols; ++b) {
          auto it = count.find({a, b});
          const double want = it == count.end() ? 0.0 : it->second / total;
          REQUIRE(row[bigram_index(a, b)] == Approx(want).margin(1e-7));
          sum += row[bigram_index(a, b)];
        }
      REQUIRE(sum == Approx(1.0));
      REQUIRE(dense_row(*lam, t * B + 1) != row);  // the other sequence reads the other corpus's λ
    }
  }

  // It learns: both parts' test text, each read with its own corpus's λ.
  const double trained = evaluate_corpus(*loaded, c, "test").bpc;
  INFO("untrained " << untrained << " bpc, trained " << trained << " bpc, best valid " << r.best_valid_bpc);
  REQUIRE(untrained > 4.0);
  REQUIRE(trained < 1.0);
  REQUIRE(r.best_valid_bpc < 1.0);
  // λ tells the model the corpus before it has read a word: the first letter after <s> ('c' or 'd')
  // is predicted better with the right corpus's λ than with the other's.
  loaded->select_domain("A");
  const double right = evaluate(*loaded, c.part_split(0, "test")).bpc;
  loaded->select_domain("B");
  const double wrong = evaluate(*loaded, c.part_split(0, "test")).bpc;
  INFO("A's test with A's lambda " << right << " bpc, with B's " << wrong);
  REQUIRE(wrong > right + 0.05);

  // Selecting a corpus it has no λ for, or a text of the same name with other content, is refused.
  REQUIRE_THAT(error_of([&] { loaded->select_domain("ptb"); }), Catch::Contains("only for the corpora it was trained on (A, B)"));
  REQUIRE_THAT(error_of([&] { loaded->select_domain("A", "0123456789abcdef"); }), Catch::Contains("counted on another text"));
  loaded->domain.clear();
  REQUIRE_THAT(error_of([&] { evaluate(*loaded, c.test); }), Catch::Contains("needs the corpus it reads"));
  // The mixture itself: fine when batches name their parts, refused when they do not.
  loaded->select_corpus(c);
  REQUIRE(evaluate_corpus(*loaded, c, "test").bpc == Approx(trained));
  REQUIRE_THAT(error_of([&] { evaluate(*loaded, c.test); }), Catch::Contains("a mixture"));
  std::filesystem::remove(o.out);
  std::filesystem::remove(o.out + ".ckpt");
}

TEST_CASE("model kinds are open: a format registered at run time loads through load_any_model", "[factorized][models]") {
  CharLMConfig cfg;
  cfg.cell = Cell::GRU;
  cfg.hidden = 4; cfg.embed = 3;
  Rng rng(4);
  CharLM m(cfg, rng);
  const std::string path = temp_path("kind_x.safetensors");
  save_trainable(path, m, {{"format", "memsig-test-kind"}});
  REQUIRE_THAT(error_of([&] { load_any_model(path); }), Catch::Contains("model format 'memsig-test-kind' is not one memsig knows"));
  int loads = 0;
  register_model_kind({"memsig-test-kind", "a kind of this test", [&](const std::string& p) {
                         ++loads;
                         SafeTensors st = load_safetensors(p);
                         st.metadata["format"] = "memsig-charlm";
                         std::shared_ptr<const CharLM> lm = model_from(p, st);
                         return AnyModel{"memsig-test-kind", lm, lm};
                       }});
  AnyModel any = load_any_model(path);
  REQUIRE(loads == 1);
  REQUIRE(any.format == "memsig-test-kind");
  REQUIRE(any.lm->describe() == "gru 1x4");
  // The factorized kind is one of the built-in ones.
  REQUIRE(find_model_kind(kFactorizedFormat) != nullptr);
  std::filesystem::remove(path);
}
