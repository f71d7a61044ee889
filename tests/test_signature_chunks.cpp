// Entries probed in chunks (issue 17): any chunking gives the signature one chunk gives, bit for
// bit; a run stopped between chunks resumes to the same result; test rows are kept once per
// probed model; files written before (entries under "layers", test rows in every entry, "delta"
// for the lag) still read, to the same signature.
#include <catch2/catch.hpp>

#include <filesystem>

#include "engine/files.h"
#include "figures/signature_plots.h"
#include "probe/charlm_source.h"
#include "probe/signature.h"
#include "probe/signature_diff.h"
#include "probe/signature_json.h"
#include "probe/signature_legacy.h"
#include "temp_files.h"

using namespace memsig;
using memsig::test::temp_path;
using json = nlohmann::json;

namespace {

Corpus random_letters(uint64_t seed) {
  Corpus c;
  c.name = "letters";
  Rng rng(seed);
  auto segs = [&](int n) {
    std::vector<Segment> out(n);
    for (auto& s : out) for (int t = 0; t < 12 + (int)rng.below(10); ++t) s.push_back((uint8_t)(3 + rng.below(6)));
    return out;
  };
  c.train = segs(80);
  c.valid = segs(20);
  c.test = segs(20);
  return c;
}

// A random 3-layer LSTM: three entries of different states.
CharLMSource three_layers() {
  CharLMConfig cfg;
  cfg.cell = Cell::LSTM; cfg.layers = 3; cfg.hidden = 6; cfg.embed = 4;
  Rng rng(7);
  return CharLMSource(std::make_shared<CharLM>(cfg, rng));
}

SignatureOptions small() {
  SignatureOptions o;
  o.states.max_lag = 3;
  o.probe.hidden = 8;
  o.probe.max_epochs = 2;
  o.probe.bootstrap = 20;
  o.perfect_memory_k = 2;
  o.control = true;
  o.quiet = o.probe.quiet = true;
  return o;
}

// Today's form of a signature written the way memsig wrote it before issue 17.
json as_before(json j) {
  std::function<void(json&)> back = [&](json& pm) {
    for (json& e : pm["entries"]) {
      e["layer"] = e["entry"];
      e.erase("entry");
      for (const char* k : {"test_rows", "test_targets", "test_clusters"}) e[k] = pm[k];
    }
    pm["layers"] = pm["entries"];
    for (const char* k : {"entries", "test_rows", "test_lags", "test_targets", "test_clusters"}) pm.erase(k);
  };
  j["control"]["test_rows"] = j["test_rows"];  // each part had its own copy
  j["control"]["test_targets"] = j["test_targets"];
  j["control"]["test_clusters"] = j["test_clusters"];
  back(j);
  back(j["control"]);
  j["layers"][1]["delta"] = j["layers"][1]["lag"];  // before the lag had its one name
  j["layers"][1].erase("lag");
  return j;
}

}  // namespace

TEST_CASE("entries probed in chunks give the signature one chunk gives, bit for bit", "[probe][chunks]") {
  Corpus c = random_letters(5);
  CharLMSource src = three_layers();
  SignatureOptions o = small();
  o.max_state_bytes = 0;  // every entry at once
  const std::string whole = to_json(compute_signature(src, c, o)).dump();
  for (int per_chunk : {1, 2}) {
    SignatureOptions oc = small();
    oc.chunk_entries = per_chunk;
    INFO("at most " << per_chunk << " entries per chunk");
    REQUIRE(to_json(compute_signature(src, c, oc)).dump() == whole);
  }
  SignatureOptions ob = small();
  ob.max_state_bytes = 1;  // a budget below one entry's states: one entry per chunk
  Signature sig = compute_signature(src, c, ob);
  REQUIRE(to_json(sig).dump() == whole);
  REQUIRE(sig.trained.entries.size() == 3);
  REQUIRE(!sig.trained.test.empty());
  REQUIRE(sig.trained.test.lags == 3);
  REQUIRE(sig.trained.test.targets.size() == (size_t)sig.trained.test.rows * 3);
  REQUIRE(sig.control->test == sig.trained.test);
  for (auto& e : sig.trained.entries) REQUIRE(e.lags[0].test_predictions.size() == (size_t)sig.trained.test.rows);
  // The test rows are written once: not in the entries, not again in the control.
  json j = to_json(sig);
  REQUIRE(j.contains("test_targets"));
  REQUIRE(!j["control"].contains("test_targets"));
  for (auto& e : j["entries"]) REQUIRE(!e.contains("test_targets"));
  REQUIRE(diff_signatures(sig, signature_from_json(j, "sig.json"), 20)[0].paired);
}

TEST_CASE("a run stopped after a chunk resumes from its partial file to the same signature", "[probe][chunks]") {
  Corpus c = random_letters(6);
  CharLMSource src = three_layers();
  SignatureOptions o = small();
  o.max_state_bytes = 0;
  const std::string whole = to_json(compute_signature(src, c, o)).dump();
  SignatureOptions oc = small();
  oc.chunk_entries = 2;
  oc.save_each_entry_up_to = 0;  // saved after each chunk, as a run of many entries is
  oc.checkpoint = temp_path("chunks.partial.json");
  std::filesystem::remove(oc.checkpoint);
  // What a run stopped after its first chunk (entries 1 and 2) leaves.
  oc.states.entries = {0, 1};
  compute_signature(src, c, oc);
  json partial = json::parse(read_file(oc.checkpoint));
  REQUIRE(partial["trained"]["entries"].size() == 2);
  REQUIRE(partial["control"]["entries"].size() == 2);
  REQUIRE(partial["trained"].contains("test_targets"));
  partial["trained"]["entries"][0]["valid_accuracy"][0] = 0.5;  // a mark: reused entries keep it
  write_text_atomically(oc.checkpoint, partial.dump());
  oc.states.entries = {};
  Signature resumed = compute_signature(src, c, oc);
  REQUIRE(resumed.trained.entries[0].lags[0].valid_accuracy == 0.5);
  resumed.trained.entries[0].lags[0].valid_accuracy = json::parse(whole)["entries"][0]["valid_accuracy"][0].get<double>();
  REQUIRE(to_json(resumed).dump() == whole);
  // A partial file of the form written before (entries as bare arrays, test rows in each) is read too.
  json old = json::parse(read_file(oc.checkpoint));
  json before = as_before(to_json(resumed));
  old["trained"] = before["layers"];
  old["control"] = before["control"]["layers"];
  old["trained"][2]["accuracy"][0] = 0.25;
  write_text_atomically(oc.checkpoint, old.dump());
  REQUIRE(compute_signature(src, c, oc).trained.entries[2].lags[0].accuracy == 0.25);
  std::filesystem::remove(oc.checkpoint);
}

TEST_CASE("signature.json of the form written before issue 17 still reads, to the same signature", "[probe][chunks]") {
  Corpus c = random_letters(7);
  CharLMSource src = three_layers();
  Signature sig = compute_signature(src, c, small());
  json today = to_json(sig);
  json before = as_before(today);
  REQUIRE(before.contains("layers"));
  REQUIRE(before["layers"][1].contains("delta"));
  Signature read = signature_from_json(before, "before.json");
  REQUIRE(to_json(read).dump() == today.dump());

  // A file memsig wrote before (tests/data/README.md): every part read, the test rows lifted
  // from the entries, and a paired diff of the model against its control as before.
  Signature old = load_signature(std::string(MEMSIG_TEST_DATA) + "/signature_before_issue17.json");
  REQUIRE(old.trained.entries.size() == 2);
  REQUIRE(old.trained.entries[1].entry == 2);
  REQUIRE(old.trained.entries[1].lags.size() == 3);
  REQUIRE(old.trained.test.rows > 0);
  REQUIRE(old.trained.test.lags == 3);
  REQUIRE(old.control->test == old.trained.test);
  REQUIRE(old.trained.entries[0].memory_equivalent_k.size() == 3);
  REQUIRE(model_label(old) == "gru 2x8");
  Signature control = old;
  control.trained = *old.control;
  auto d = diff_signatures(old, control, 50);
  REQUIRE(d.size() == 2);
  REQUIRE(d[0].paired);
  // Written in today's form and read back: the same numbers and the same paired diff.
  Signature again = signature_from_json(to_json(old), "again.json");
  REQUIRE(to_json(again).dump() == to_json(old).dump());
  Signature control_again = again;
  control_again.trained = *again.control;
  auto d2 = diff_signatures(again, control_again, 50);
  REQUIRE(d2[0].accuracy_lo == d[0].accuracy_lo);
  REQUIRE(d2[1].accuracy_hi == d[1].accuracy_hi);
}

TEST_CASE("a large entry set gets one CSV for all entries and PNGs only for the named ones", "[probe][chunks]") {
  Corpus c = random_letters(8);
  CharLMSource src = three_layers();
  SignatureOptions o = small();
  o.control = false;
  Signature sig = compute_signature(src, c, o);
  const std::string dir = temp_path("grouped");
  std::filesystem::remove_all(dir);
  SignatureFileOptions files;
  files.per_entry_files_up_to = 2;  // three entries: grouped
  files.png_entries = {2};
  write_signature_files(sig, dir, "grouped", files);
  REQUIRE(file_exists(dir + "/signature.json"));
  REQUIRE(file_exists(dir + "/signature_entries.csv"));
  REQUIRE(file_exists(dir + "/signature_l2.png"));
  REQUIRE(file_exists(dir + "/marginal.csv"));
  for (const char* absent : {"/signature_l1.png", "/signature_l3.png", "/signature_l1.csv", "/marginal.png"})
    REQUIRE(!file_exists(dir + absent));
  std::string csv = read_file(dir + "/signature_entries.csv");
  REQUIRE(csv.rfind("entry,name,state,lag,accuracy,", 0) == 0);
  REQUIRE(std::count(csv.begin(), csv.end(), '\n') == 1 + 3 * 3);  // header, 3 entries x 3 lags
  REQUIRE(csv.find("\n3,layer 3,c,3,") != std::string::npos);
  std::filesystem::remove_all(dir);
  files.per_entry_files_up_to = 16;  // few entries: a PNG and CSV each, as ever
  write_signature_files(sig, dir, "per entry", files);
  for (const char* present : {"/signature_l1.png", "/signature_l3.csv", "/marginal.png"}) REQUIRE(file_exists(dir + present));
  REQUIRE(!file_exists(dir + "/signature_entries.csv"));
  std::filesystem::remove_all(dir);
}
