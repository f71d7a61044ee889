// Hostile input: the crashes and silent wrong answers found by trying memsig as an adversary,
// each kept as a regression test. Every case must end in a one-line error naming the file or the
// option and the problem, never in a crash, a hang, a huge allocation or a made-up number.
#include <catch2/catch.hpp>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <filesystem>

#include "corpora/corpus.h"
#include "engine/files.h"
#include "engine/numbers.h"
#include "engine/safetensors.h"
#include "models/model_file.h"
#include "models/train_charlm.h"
#include "probe/charlm_source.h"
#include "probe/signature.h"
#include "probe/signature_diff.h"
#include "probe/signature_json.h"
#include "temp_files.h"

using namespace memsig;
using namespace memsig::test;

namespace {

bool contains(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

Corpus words_corpus() {
  Corpus c;
  c.name = "words";
  const char* words[] = {"abc", "hello", "xyz", "memory"};
  Rng rng(3);
  for (int i = 0; i < 200; ++i) {
    std::string line = std::string(words[rng.below(4)]) + " " + words[rng.below(4)];
    (i % 10 == 0 ? c.valid : i % 10 == 1 ? c.test : c.train).push_back(normalize(line));
  }
  return c;
}

TrainOptions tiny(const std::string& name) {
  TrainOptions o;
  o.model.cell = Cell::LSTM; o.model.hidden = 8; o.model.embed = 4; o.model.layers = 2;
  o.batch = 16; o.epochs = 1; o.quiet = true;
  o.out = temp_path(name);
  return o;
}

// Rewrites one metadata entry of a safetensors file.
void set_metadata(const std::string& path, const std::string& key, const std::string& value) {
  SafeTensors st = load_safetensors(path);
  st.metadata[key] = value;
  std::vector<std::pair<std::string, const Tensor*>> ts;
  for (auto& [n, t] : st.tensors) ts.push_back({n, &t});
  save_safetensors(path, ts, st.metadata);
}

void remove_run(const std::string& out) {
  std::filesystem::remove(out);
  std::filesystem::remove(out + ".ckpt");
}

}  // namespace

TEST_CASE("checkpoint metadata is parsed strictly: a negative batch position is an error, not a crash", "[hostile]") {
  Corpus c = words_corpus();
  TrainOptions o = tiny("ckpt.safetensors");
  train_charlm(c, o);
  const std::string ckpt = o.out + ".ckpt";
  TrainOptions r = o;
  r.resume = true;
  r.epochs = 2;
  for (auto [key, value, expect] : std::vector<std::tuple<std::string, std::string, std::string>>{
           {"ckpt.next_batch", "-3", "ckpt.next_batch"}, {"ckpt.next_batch", "999999", "ckpt.next_batch"},
           {"ckpt.epoch", "abc", "ckpt.epoch' is not an integer"}, {"ckpt.best_valid", "-1", "ckpt.best_valid"},
           {"ckpt.seconds", "nan", "ckpt.seconds"}}) {
    train_charlm(c, o);  // a fresh, good checkpoint
    set_metadata(ckpt, key, value);
    std::string e = error_of([&] { train_charlm(c, r); });
    INFO(key << "=" << value << ": " << e);
    REQUIRE(contains(e, ckpt));
    REQUIRE(contains(e, expect));
  }
  remove_run(o.out);
}

TEST_CASE("a resumed run must match the run that wrote the checkpoint, the learning rate only when allowed", "[hostile]") {
  Corpus c = words_corpus();
  TrainOptions o = tiny("settings.safetensors");
  o.epochs = 1;
  train_charlm(c, o);
  TrainOptions r = o;
  r.resume = true;
  r.epochs = 2;
  auto resumed_with = [&](const std::function<void(TrainOptions&)>& change, const Corpus& data) {
    TrainOptions x = r;
    change(x);
    return error_of([&] { train_charlm(data, x); });
  };
  REQUIRE(contains(resumed_with([](TrainOptions& x) { x.seed = 2; }, c), "--seed"));
  REQUIRE(contains(resumed_with([](TrainOptions& x) { x.batch = 8; }, c), "--batch"));
  REQUIRE(contains(resumed_with([](TrainOptions& x) { x.optimizer = "sgd"; }, c), "--optimizer"));
  REQUIRE(contains(resumed_with([](TrainOptions& x) { x.model.hidden = 9; }, c), "different model"));
  Corpus other = c;
  other.train.pop_back();
  REQUIRE(contains(resumed_with([](TrainOptions&) {}, other), "--corpus_digest"));
  std::string lr = resumed_with([](TrainOptions& x) { x.lr = 1e-2f; }, c);
  REQUIRE(contains(lr, "--allow-lr-change"));
  REQUIRE(resumed_with([](TrainOptions& x) { x.lr = 1e-2f; x.allow_lr_change = true; }, c).empty());
  remove_run(o.out);
}

TEST_CASE("options that make no sense are refused before any work", "[hostile]") {
  Corpus c = words_corpus();
  for (auto [change, expect] : std::vector<std::pair<std::function<void(TrainOptions&)>, std::string>>{
           {[](TrainOptions& x) { x.lr = NAN; }, "--lr"},
           {[](TrainOptions& x) { x.clip = NAN; }, "--clip"},
           {[](TrainOptions& x) { x.momentum = -5; }, "--momentum"},
           {[](TrainOptions& x) { x.max_minutes = -1; }, "--max-minutes"},
           {[](TrainOptions& x) { x.log_csv = "/nonexistent-dir/curve.csv"; }, "curve.csv"}}) {
    TrainOptions o = tiny("options.safetensors");
    change(o);
    std::string e = error_of([&] { train_charlm(c, o); });
    INFO(e);
    REQUIRE(contains(e, expect));
    REQUIRE_FALSE(file_exists(o.out));  // refused before training, nothing written
    REQUIRE_FALSE(file_exists(o.out + ".ckpt"));
  }
}

TEST_CASE("training that diverges stops, says where, and keeps no broken model", "[hostile]") {
  Corpus c = words_corpus();
  TrainOptions o = tiny("diverge.safetensors");
  o.optimizer = "sgd";
  o.clip = 0;
  o.lr = 1e6f;
  o.epochs = 3;
  std::string e = error_of([&] { train_charlm(c, o); });
  INFO(e);
  REQUIRE(contains(e, "training stopped at step"));
  REQUIRE((contains(e, "not finite") || contains(e, "diverged") || contains(e, "loss is")));
  REQUIRE_FALSE(file_exists(o.out + ".ckpt"));  // no checkpoint full of NaN
  if (file_exists(o.out)) REQUIRE(std::isfinite(evaluate(*load_model(o.out), c.valid).bpc));
  remove_run(o.out);
}

TEST_CASE("a model with non-finite weights is refused by the probe", "[hostile]") {
  Corpus c = words_corpus();
  CharLMConfig cfg;
  cfg.hidden = 8; cfg.embed = 4;
  Rng rng(1);
  auto m = std::make_shared<CharLM>(cfg, rng);
  m->rnn[0].w_hh->value.data[3] = NAN;
  SignatureOptions so;
  so.quiet = true; so.probe.quiet = true;
  REQUIRE(contains(error_of([&] { compute_signature(CharLMSource(m), c, so); }), "non-finite state"));
  REQUIRE(std::isnan(evaluate(*m, c.valid).bpc));  // eval's CLI turns this into an error naming the file
}

TEST_CASE("probe settings that cannot work are errors: patience 0, too few positions, a layer twice", "[hostile]") {
  Corpus c = words_corpus();
  CharLMConfig cfg;
  cfg.hidden = 8; cfg.embed = 4; cfg.layers = 2;
  Rng rng(1);
  CharLMSource src(std::make_shared<CharLM>(cfg, rng));
  SignatureOptions so;
  so.quiet = true; so.probe.quiet = true; so.states.max_lag = 2; so.probe.bootstrap = 10;
  so.probe.patience = 0;
  REQUIRE(contains(error_of([&] { compute_signature(src, c, so); }), "--patience"));
  so.probe.patience = -1;
  REQUIRE(contains(error_of([&] { compute_signature(src, c, so); }), "--patience"));
  so.probe.patience = 3;
  so.max_train_positions = 1;
  REQUIRE(contains(error_of([&] { compute_signature(src, c, so); }), "too few positions"));
  so.max_train_positions = 200000;
  so.states.entries = {0, 0};
  REQUIRE(contains(error_of([&] { compute_signature(src, c, so); }), "twice"));
}

TEST_CASE("an entry's signature does not depend on which other entries are probed with it", "[hostile]") {
  Corpus c = words_corpus();
  CharLMConfig cfg;
  cfg.hidden = 8; cfg.embed = 4; cfg.layers = 2; cfg.cell = Cell::LSTM;
  Rng rng(2);
  CharLMSource src(std::make_shared<CharLM>(cfg, rng));
  SignatureOptions so;
  so.quiet = true; so.probe.quiet = true; so.states.max_lag = 3; so.probe.max_epochs = 2; so.probe.bootstrap = 20;
  Signature both = compute_signature(src, c, so);
  so.states.entries = {1};
  Signature second = compute_signature(src, c, so);
  REQUIRE(to_json(both.trained.entries[1]).dump() == to_json(second.trained.entries[0]).dump());
}

TEST_CASE("a signature checkpoint is reused only for the same model, and a broken one is an error", "[hostile]") {
  Corpus c = words_corpus();
  CharLMConfig cfg;
  cfg.hidden = 8; cfg.embed = 4;
  Rng r1(1), r2(2);
  CharLMSource a(std::make_shared<CharLM>(cfg, r1)), b(std::make_shared<CharLM>(cfg, r2));
  SignatureOptions so;
  so.quiet = true; so.probe.quiet = true; so.states.max_lag = 2; so.probe.max_epochs = 1; so.probe.bootstrap = 10;
  so.checkpoint = temp_path("partial.json");
  compute_signature(a, c, so);
  auto ckpt = nlohmann::json::parse(read_file(so.checkpoint));
  ckpt["trained"]["entries"][0]["accuracy"][0] = 0.123;  // marks a reused layer
  write_text_atomically(so.checkpoint, ckpt.dump());
  REQUIRE(compute_signature(b, c, so).trained.entries[0].lags[0].accuracy != 0.123);  // another model: not reused
  compute_signature(a, c, so);
  ckpt = nlohmann::json::parse(read_file(so.checkpoint));
  ckpt["trained"]["entries"][0].erase("recall");
  write_text_atomically(so.checkpoint, ckpt.dump());
  std::string e = error_of([&] { compute_signature(a, c, so); });
  REQUIRE(contains(e, so.checkpoint));
  REQUIRE(contains(e, "'recall'"));
  std::filesystem::remove(so.checkpoint);
}

TEST_CASE("diff of signatures with different lag counts compares the lags both have", "[hostile]") {
  Corpus c = words_corpus();
  CharLMConfig cfg;
  cfg.hidden = 8; cfg.embed = 4;
  Rng rng(1);
  CharLMSource src(std::make_shared<CharLM>(cfg, rng));
  SignatureOptions so;
  so.quiet = true; so.probe.quiet = true; so.states.max_lag = 4; so.probe.max_epochs = 1; so.probe.bootstrap = 10;
  Signature a = compute_signature(src, c, so);
  so.states.max_lag = 2;
  Signature b = compute_signature(src, c, so);
  auto d = diff_signatures(a, b);
  REQUIRE(d.size() == 1);
  REQUIRE(d[0].lags == std::vector<int>{1, 2});
  REQUIRE(d[0].recall_diff.size() == 2 * d[0].symbols.size());
  // A signature.json with a recall row of the wrong length is an error on reading.
  auto j = to_json(b);
  j["entries"][0]["recall"][1].erase(0);
  std::string e = error_of([&] { signature_from_json(j, "b.json"); });
  REQUIRE(contains(e, "b.json"));
  REQUIRE(contains(e, "'recall' row 2"));
}

TEST_CASE("safetensors: fractional shapes, aliased tensors, directories and devices are refused", "[hostile][io]") {
  std::string p = temp_path("hostile.safetensors");
  auto file_with = [&](const std::string& header, size_t data_bytes) {
    std::string h = header;
    std::string len(8, '\0');
    for (int i = 0; i < 8; ++i) len[i] = (char)((h.size() >> (8 * i)) & 0xff);
    write_bytes(p, len + h + std::string(data_bytes, '\0'));
  };
  file_with(R"({"a":{"dtype":"F32","shape":[2.5,2],"data_offsets":[0,16]}})", 16);
  REQUIRE(contains(error_of([&] { load_safetensors(p); }), "not a non-negative integer"));
  file_with(R"({"a":{"dtype":"F32","shape":[4],"data_offsets":[0,16]},"b":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}})", 16);
  REQUIRE(contains(error_of([&] { load_safetensors(p); }), "overlap"));
  file_with(R"({"a":{"dtype":"F32","shape":[4],"data_offsets":[8,24]}})", 24);
  REQUIRE(contains(error_of([&] { load_safetensors(p); }), "belong to no tensor"));
  file_with(R"({"a":{"dtype":"F32","shape":[4294967296,4294967296],"data_offsets":[0,16]}})", 16);
  REQUIRE(contains(error_of([&] { load_safetensors(p); }), "too large"));
  std::string dir = temp_path("a_dir");
  std::filesystem::create_directories(dir);
  REQUIRE(contains(error_of([&] { load_safetensors(dir); }), "is a directory"));
  REQUIRE(contains(error_of([&] { load_safetensors("/dev/zero"); }), "not a regular file"));
  std::string fifo = temp_path("fifo");
  REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
  REQUIRE(contains(error_of([&] { load_safetensors(fifo); }), "not a regular file"));  // and no hang
  std::filesystem::remove(fifo);
  std::filesystem::remove(dir);
  std::filesystem::remove(p);
}

TEST_CASE("model metadata that claims huge sizes is refused before allocating", "[hostile][io]") {
  Rng rng(1);
  CharLMConfig cfg;
  cfg.hidden = 4; cfg.embed = 2;
  CharLM m(cfg, rng);
  std::string p = temp_path("huge.safetensors");
  for (auto [key, value, expect] : std::vector<std::tuple<std::string, std::string, std::string>>{
           {"hidden", "20000", "has shape"}, {"hidden", "2147483647", "over memsig's limit"},
           {"embed", "1000000000", "over memsig's limit"}, {"layers", "99999", "over memsig's limit"},
           {"hidden", "1e7", "not a positive integer"}}) {
    save_trainable(p, m, {{key, value}});
    auto t0 = std::chrono::steady_clock::now();
    std::string e = error_of([&] { load_model(p); });
    double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    INFO(key << "=" << value << ": " << e);
    REQUIRE(contains(e, p));
    REQUIRE(contains(e, expect));
    REQUIRE(secs < 1.0);  // no multi-gigabyte allocation on the way to the error
  }
  std::filesystem::remove(p);
}

TEST_CASE("a text file too short to split 90/5/5 is an error, not empty splits", "[hostile][corpora]") {
  std::string p = temp_path("short.txt");
  write_bytes(p, "one line\ntwo lines\nthree\n");
  std::string e = error_of([&] { load_corpus(p); });
  REQUIRE(contains(e, p));
  REQUIRE(contains(e, "at least 20"));
  std::filesystem::remove(p);
}

TEST_CASE("a temporary file left by a killed writer is removed by the next write", "[hostile][io]") {
  std::string p = temp_path("atomic.txt");
  pid_t child = ::fork();
  if (child == 0) _exit(0);  // a process id that is certainly gone after waitpid
  int status = 0;
  ::waitpid(child, &status, 0);
  std::string stale = temp_path_for(p);
  stale = stale.substr(0, stale.rfind('.') + 1) + std::to_string(child);  // the same name with the dead pid
  write_bytes(stale, "half");
  write_text_atomically(p, "whole");
  REQUIRE_FALSE(file_exists(stale));
  REQUIRE(read_file(p) == "whole");
  std::filesystem::remove(p);
}

// --- second round (issue 16) ---

TEST_CASE("the output rule: no output names an input, another output, a directory or a device", "[hostile][files]") {
  namespace fs = std::filesystem;
  std::string in = temp_path("rule_in.txt"), link = temp_path("rule_link.txt"), hard = temp_path("rule_hard.txt");
  write_bytes(in, "text\n");
  fs::remove(link);
  fs::remove(hard);
  fs::create_symlink(in, link);
  fs::create_hard_link(in, hard);
  // The same file through a symlink, a hard link and a path with "." in it.
  for (const std::string& out : {in, link, hard, fs::path(in).parent_path().string() + "/./" + fs::path(in).filename().string()})
    REQUIRE(contains(error_of([&] { check_outputs({{"--corpus", in}}, {{"--out", out}}); }), "--out names the command's input (--corpus)"));
  // Two outputs that are one new path.
  std::string fresh = temp_path("rule_new.bin");
  REQUIRE(contains(error_of([&] { check_outputs({}, {{"--out", fresh}, {"--log", fresh}}); }), "--log and --out name the same file"));
  REQUIRE(error_of([&] { check_outputs({{"--corpus", in}}, {{"--out", fresh}, {"--log", fresh + ".csv"}}); }).empty());
  REQUIRE(contains(error_of([&] { check_outputs({}, {{"--out", "/dev/null"}}); }), "is not a regular file"));
  REQUIRE(contains(error_of([&] { check_outputs({}, {{"--out", fs::temp_directory_path().string()}}); }), "is a directory"));
  // The atomic writer refuses a device on its own, whoever calls it.
  REQUIRE(contains(error_of([&] { write_text_atomically("/dev/null", "x"); }), "is not a regular file"));
  std::string fifo = temp_path("rule_fifo");
  fs::remove(fifo);
  REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
  REQUIRE(contains(error_of([&] { write_text_atomically(fifo, "x"); }), "is not a regular file"));
  REQUIRE(fs::is_fifo(fifo));
  for (auto& p : {in, link, hard, fifo}) fs::remove(p);
}

TEST_CASE("numbers are parsed whole and printed short", "[hostile]") {
  int64_t i = 0;
  double x = 0;
  REQUIRE(parse_integer("42", i));
  REQUIRE(i == 42);
  REQUIRE(parse_integer("-7", i));
  for (const char* bad : {"1e2", "0x10", "5junk", " 5", "5 ", "", "-", "1.5", "99999999999999999999"}) REQUIRE_FALSE(parse_integer(bad, i));
  REQUIRE(parse_real("2e-3", x));
  REQUIRE(x == 2e-3);
  for (const char* bad : {"nan", "inf", "-inf", "1e999", "0x1p3", "1.5x", "", " 1"}) REQUIRE_FALSE(parse_real(bad, x));
  REQUIRE(short_number(1.7976931348623157e308) == "1.79769e+308");
  REQUIRE(short_number(0.05) == "0.05");
}

TEST_CASE("a binary file is not a text corpus", "[hostile][corpus]") {
  std::string bin = temp_path("binary.txt");
  std::string bytes;
  Rng rng(5);
  for (int i = 0; i < 4000; ++i) bytes += (char)rng.below(256);
  write_bytes(bin, bytes);
  std::string msg = error_of([&] { read_segments(bin); });
  REQUIRE(contains(msg, bin + ": not a text file: control byte 0x"));
  REQUIRE(contains(msg, "at offset"));
  // Text with a stray control character is still text.
  std::string text = temp_path("mostly_text.txt");
  std::string t;
  for (int i = 0; i < 200; ++i) t += "to be or not to be\n";
  t += "\x1a";
  write_bytes(text, t);
  REQUIRE(read_segments(text).size() == 200);
  std::remove(bin.c_str());
  std::remove(text.c_str());
}

TEST_CASE("corpus and signature settings carry the corpus's content, not only its name", "[hostile][probe]") {
  Corpus a = words_corpus(), b = words_corpus();
  b.train[0] = normalize("something else entirely");
  REQUIRE(a.name == b.name);
  REQUIRE(corpus_digest(a) != corpus_digest(b));
  Rng rng(1);
  CharLMConfig cfg;
  cfg.hidden = 8;
  cfg.embed = 4;
  auto model = std::make_shared<CharLM>(cfg, rng);
  CharLMSource source(model);
  SignatureOptions so;
  REQUIRE(signature_settings(source, a, so) != signature_settings(source, b, so));
}
