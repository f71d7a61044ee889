// Files and text: safetensors round trips and rejections, the model-file contract, normalisation,
// batching under the evaluation protocol.
#include <catch2/catch.hpp>
#include <unistd.h>
#include <cstdio>
#include <filesystem>
#include <fstream>

#include "corpora/batches.h"
#include "corpora/corpus.h"
#include "engine/files.h"
#include "engine/safetensors.h"
#include "models/model_file.h"
#include "temp_files.h"

using namespace memsig;
using namespace memsig::test;

TEST_CASE("safetensors round trip keeps names, shapes, values and metadata", "[io]") {
  Tensor a({2, 3}), b({4});
  for (int i = 0; i < 6; ++i) a.data[i] = 0.5f * i - 1;
  for (int i = 0; i < 4; ++i) b.data[i] = 1e-3f * i;
  std::string p = temp_path("rt.safetensors");
  save_safetensors(p, {{"a", &a}, {"b.x", &b}}, {{"k", "v"}});
  std::string bytes = read_file(p);
  uint64_t n = 0;
  for (int i = 0; i < 8; ++i) n |= (uint64_t)(unsigned char)bytes[i] << (8 * i);
  REQUIRE((8 + n) % 8 == 0);  // data section aligned
  SafeTensors st = load_safetensors(p);
  REQUIRE(st.tensors.at("a").shape == a.shape);
  REQUIRE(st.tensors.at("a").data == a.data);
  REQUIRE(st.tensors.at("b.x").data == b.data);
  REQUIRE(st.metadata.at("k") == "v");
  std::remove(p.c_str());
}

TEST_CASE("malformed and truncated safetensors files are rejected with the file named", "[io]") {
  Tensor a({8});
  std::string p = temp_path("bad.safetensors");
  save_safetensors(p, {{"a", &a}}, {});
  std::string good = read_file(p);
  write_bytes(p, good.substr(0, good.size() - 5));
  std::string e = error_of([&] { load_safetensors(p); });
  REQUIRE(e.find(p) == 0);
  REQUIRE(e.find("truncated") != std::string::npos);
  write_bytes(p, good.substr(0, 5));
  REQUIRE(error_of([&] { load_safetensors(p); }).find("not a safetensors") != std::string::npos);
  std::string broken = good;
  broken[9] = '!';  // corrupt the JSON
  write_bytes(p, broken);
  REQUIRE(error_of([&] { load_safetensors(p); }).find("malformed") != std::string::npos);
  REQUIRE(error_of([&] { load_safetensors(p + ".missing"); }).find("cannot open") != std::string::npos);
  std::remove(p.c_str());
}

TEST_CASE("model files follow the contract and round-trip exactly", "[io][model]") {
  Rng rng(1);
  CharLMConfig cfg;
  cfg.cell = Cell::LSTM; cfg.layers = 2; cfg.hidden = 6; cfg.embed = 4;
  CharLM m(cfg, rng);
  std::string p = temp_path("m.safetensors");
  save_trainable(p, m);
  SafeTensors st = load_safetensors(p);
  REQUIRE(st.metadata.at("format") == "memsig-charlm");
  REQUIRE(st.metadata.at("cell") == "lstm");
  REQUIRE(st.metadata.at("layers") == "2");
  REQUIRE(st.tensors.at("embed.weight").shape == std::vector<int64_t>{34, 4});
  REQUIRE(st.tensors.at("rnn.weight_ih_l1").shape == std::vector<int64_t>{24, 6});
  REQUIRE(st.tensors.at("rnn.bias_hh_l0").shape == std::vector<int64_t>{24});
  REQUIRE(st.tensors.at("proj.weight").shape == std::vector<int64_t>{34, 6});
  auto back = load_model(p);
  auto a = m.named_parameters(), b = back->named_parameters();
  for (size_t i = 0; i < a.size(); ++i) REQUIRE(a[i].second->value.data == b[i].second->value.data);

  // A wrong shape or missing metadata is an error that names the file and the tensor.
  st.tensors.at("proj.bias") = Tensor({33});
  std::vector<std::pair<std::string, const Tensor*>> ts;
  for (auto& [k, t] : st.tensors) ts.push_back({k, &t});
  save_safetensors(p, ts, st.metadata);
  std::string e = error_of([&] { load_model(p); });
  REQUIRE(e.find(p) == 0);
  REQUIRE(e.find("proj.bias") != std::string::npos);
  auto meta = st.metadata;
  meta.erase("format");
  save_safetensors(p, ts, meta);
  REQUIRE(error_of([&] { load_model(p); }).find("not a memsig char LM") != std::string::npos);
  std::remove(p.c_str());
}

TEST_CASE("normalisation maps raw text onto the 34 symbols", "[corpora]") {
  REQUIRE(symbol_names().size() == 34);
  REQUIRE(symbol_names()[3] == "a");
  REQUIRE(symbol_names()[29] == " ");
  REQUIRE(symbol_names()[33] == "'");
  REQUIRE(to_text(normalize("  Hello,   World!  It's 1999; ok?")) == "hello, world. it's ####. ok.");
  REQUIRE(to_text(normalize("well-known\t\"quotes\" & co.")) == "well known quotes co.");
  // PTB: the token N is a number, the n of n't is a letter, <unk> is one symbol
  Segment s = normalize("they do n't pay N <unk> dollars", true);
  REQUIRE(to_text(s) == "they do n't pay # <unk> dollars");
  REQUIRE(std::count(s.begin(), s.end(), (uint8_t)kUnk) == 1);
  REQUIRE(to_text(normalize("N. Nash", true)) == "n. nash");  // only the whole token N
  REQUIRE(normalize("$%&").empty());
}

TEST_CASE("text files split 90/5/5 and bad files give one-line errors", "[corpora]") {
  std::string p = temp_path("text.txt");
  std::string text;
  for (int i = 0; i < 40; ++i) text += "line " + std::to_string(i) + "\n\n";
  write_bytes(p, text);
  Corpus c = load_corpus(p);
  REQUIRE(c.train.size() == 36);
  REQUIRE(c.valid.size() == 2);
  REQUIRE(c.test.size() == 2);
  REQUIRE(to_text(c.valid[0]) == "line ##");
  write_bytes(p, "$$$\n\n");
  REQUIRE(error_of([&] { load_corpus(p); }).find(p + ": no text") == 0);
  REQUIRE(error_of([&] { load_corpus(p + ".nope"); }).find("no such corpus file") != std::string::npos);
  std::remove(p.c_str());
}

TEST_CASE("batches follow the protocol: <s> c1..cn -> c1..cn </s>, time-major, masked", "[corpora]") {
  std::vector<Segment> segs{normalize("ab"), normalize("abcd"), normalize("a")};
  auto buckets = length_buckets(segs, 2);
  REQUIRE(buckets.size() == 2);
  REQUIRE(buckets[0] == std::vector<int>{2, 0});  // shortest first
  Batch b = make_batch(segs, {1, 2});
  REQUIRE(b.T == 5);
  REQUIRE(b.B == 2);
  REQUIRE(b.n_targets == 5 + 2);
  REQUIRE(b.inputs[0] == kBos);
  REQUIRE(b.inputs[1] == kBos);
  REQUIRE(b.inputs[1 * 2 + 0] == symbol_of_char('a'));
  REQUIRE(b.targets[4 * 2 + 0] == kEos);
  REQUIRE(b.targets[1 * 2 + 1] == kEos);
  REQUIRE(b.mask[1 * 2 + 1] == 1.0f);
  REQUIRE(b.mask[2 * 2 + 1] == 0.0f);
}
