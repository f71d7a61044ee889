#include "probe/signature.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <functional>

#include "engine/files.h"
#include "engine/stop_points.h"
#include "probe/signature_json.h"
#include "probe/signature_legacy.h"

namespace memsig {

using json = nlohmann::json;

namespace {

constexpr int V = kNumSymbols;

// The entries of one source probed so far (from a checkpoint, then this run) and their test rows.
struct Probed {
  std::vector<EntrySignature> entries;
  TestRows test;
};

TestRows test_rows_of(const StateSet& test) {
  TestRows t;
  t.rows = test.n;
  t.lags = test.max_lag;
  t.targets.assign(test.history.begin(), test.history.end());
  for (size_t i = 0; i < test.segment.size(); ++i)
    if (i == 0 || test.segment[i] != test.segment[i - 1]) t.clusters.push_back(1);
    else t.clusters.back()++;
  return t;
}

// The entries of `todo` in chunks, in order, each holding as many entries as keep the states of
// the three splits within opt.max_state_bytes and number at most opt.chunk_entries (at least one
// entry per chunk). The rows are estimated as the positions a split keeps: min(its eligible rows,
// the position limit).
std::vector<std::vector<int>> chunks_of(const StateSource& source, const Corpus& corpus, const SignatureOptions& opt,
                                        const std::vector<int>& todo) {
  if (opt.max_state_bytes <= 0 && opt.chunk_entries <= 0) return {todo};
  auto kept = [](int64_t eligible, int64_t limit) { return limit > 0 ? std::min(eligible, limit) : eligible; };
  const int64_t rows = kept(source.eligible_rows(corpus.train), opt.max_train_positions) +
                       kept(source.eligible_rows(corpus.valid), opt.max_eval_positions) +
                       kept(source.eligible_rows(corpus.test), opt.max_eval_positions);
  const auto all = source.entries();
  std::vector<std::vector<int>> chunks;
  int64_t used = 0;
  for (int e : todo) {
    const int width = e >= 0 && e < (int)all.size() ? all[e].width : 0;  // a bad entry: extract_states says so
    const int64_t bytes = rows * (int64_t)width * (int64_t)sizeof(float);
    const bool full = !chunks.empty() && ((opt.max_state_bytes > 0 && used + bytes > opt.max_state_bytes) ||
                                          (opt.chunk_entries > 0 && (int)chunks.back().size() >= opt.chunk_entries));
    if (chunks.empty() || full) {
      chunks.emplace_back();
      used = 0;
    }
    chunks.back().push_back(e);
    used += bytes;
  }
  return chunks;
}

// Probes the requested entries of one source (the trained model, or its control), chunk by chunk
// (signature.h). `done` holds entries finished earlier (from a checkpoint); each newly finished one
// is appended and `save` called: after every entry while the run has few, after every chunk beyond
// (SignatureOptions::save_each_entry_up_to).
Probed probe_source(const StateSource& source, const Corpus& corpus, const SignatureOptions& opt, const char* what,
                    Probed done, const std::function<void(const Probed&)>& save) {
  StateOptions so = opt.states;
  if (so.entries.empty()) for (size_t e = 0; e < source.entries().size(); ++e) so.entries.push_back((int)e);
  const std::vector<int> asked_for = so.entries;  // the result: finished earlier or now
  std::vector<int> todo;
  for (int e : asked_for) {
    bool finished = false;
    for (auto& d : done.entries) finished = finished || d.entry == e + 1;
    if (!finished) todo.push_back(e);
  }
  if (todo.size() < asked_for.size() && !opt.quiet)
    std::fprintf(stderr, "%s: %zu entry(ies) taken from the checkpoint %s\n", what, asked_for.size() - todo.size(),
                 opt.checkpoint.c_str());
  const auto chunks = todo.empty() ? std::vector<std::vector<int>>{} : chunks_of(source, corpus, opt, todo);
  const bool save_each_entry = (int64_t)todo.size() <= opt.save_each_entry_up_to;
  for (size_t ci = 0; ci < chunks.size(); ++ci) {
    so.entries = chunks[ci];
    auto t0 = std::chrono::steady_clock::now();
    std::string key = source.identity() + "|state " + source.state_kind() + "|" + corpus.name + " " + corpus_digest(corpus) + "|lag " +
                      std::to_string(so.max_lag) + " seed " + std::to_string(so.seed) + " batch " + std::to_string(so.batch) +
                      " positions " + std::to_string(opt.max_train_positions) + "/" + std::to_string(opt.max_eval_positions) +
                      " entries";
    for (int e : so.entries) key += " " + std::to_string(e);
    // The caller's cache only when one chunk holds every entry: otherwise each chunk's states are
    // freed before the next is extracted.
    StateCache local;
    StateCache& c = opt.state_cache && chunks.size() == 1 ? *opt.state_cache : local;
    const bool reused = c.key == key;
    if (!reused) {
      c.key.clear();  // invalid until all three are in
      so.max_positions = opt.max_train_positions;
      so.seed = opt.states.seed;
      c.train = extract_states(source, corpus.train, so, corpus.features.get(), "train");
      so.max_positions = opt.max_eval_positions;
      so.seed += 1;
      c.valid = extract_states(source, corpus.valid, so, corpus.features.get(), "valid");
      so.seed += 1;
      c.test = extract_states(source, corpus.test, so, corpus.features.get(), "test");
      c.key = key;
    }
    const StateSet &train = c.train, &valid = c.valid, &test = c.test;
    double t_extract = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    if (!opt.quiet) {
      std::string chunk = chunks.size() == 1 ? "" : " chunk " + std::to_string(ci + 1) + "/" + std::to_string(chunks.size()) +
                                                     " (" + std::to_string(so.entries.size()) + " entries)";
      std::fprintf(stderr, "%s%s: states of %lld/%lld/%lld positions (train/valid/test) %s %.1f s\n", what, chunk.c_str(),
                   (long long)train.n, (long long)valid.n, (long long)test.n, reused ? "reused from memory," : "in",
                   t_extract);
    }
    const int64_t kMinTrain = 100, kMinEval = 20;
    if (train.n < kMinTrain || valid.n < kMinEval || test.n < kMinEval)
      throw std::invalid_argument("too few positions to probe: " + std::to_string(train.n) + "/" + std::to_string(valid.n) +
                                  "/" + std::to_string(test.n) + " (train/valid/test; need at least " +
                                  std::to_string(kMinTrain) + "/" + std::to_string(kMinEval) + "/" + std::to_string(kMinEval) +
                                  "): more text, or a larger --max-positions");
    TestRows rows = test_rows_of(test);
    if (ci > 0 && done.test != rows)  // rows follow the seed, not the entries
      throw std::logic_error(std::string("probe: the test rows of the ") + what + " model differ from one chunk to the next");
    done.test = std::move(rows);
    for (size_t e = 0; e < train.entries.size(); ++e) {
      auto t1 = std::chrono::steady_clock::now();
      if (!opt.quiet) std::fprintf(stderr, "%s %s: training %d decoders\n", what, train.names[e].c_str(), train.max_lag);
      EntrySignature es;
      es.entry = train.entries[e] + 1;
      es.name = train.names[e];
      es.state = source.state_kind();
      es.lags = probe_entry(train, valid, test, e, opt.probe);
      if (!opt.quiet) {
        double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t1).count();
        std::fprintf(stderr, "%s %s (%s, %.1f s): test accuracy by lag:", what, es.name.c_str(), es.state.c_str(), secs);
        for (auto& r : es.lags) std::fprintf(stderr, " %.3f", r.accuracy);
        std::fprintf(stderr, "\n");
      }
      done.entries.push_back(std::move(es));
      if (save_each_entry) save(done);
      stop_point("probe.entry");
    }
    if (!save_each_entry) save(done);
    stop_point("probe.chunk");
  }
  Probed asked;  // a checkpoint may hold entries this run did not ask for
  asked.test = std::move(done.test);
  for (int e : asked_for) {
    auto it = std::find_if(done.entries.begin(), done.entries.end(), [&](const EntrySignature& d) { return d.entry == e + 1; });
    if (it == done.entries.end())
      throw std::logic_error("probe: entry " + std::to_string(e + 1) + " was neither probed nor taken from the checkpoint");
    asked.entries.push_back(std::move(*it));
  }
  std::sort(asked.entries.begin(), asked.entries.end(), [](const EntrySignature& a, const EntrySignature& b) { return a.entry < b.entry; });
  return asked;
}

}  // namespace

json signature_settings(const StateSource& source, const Corpus& corpus, const SignatureOptions& opt) {
  const ProbeOptions& p = opt.probe;
  json settings = {{"corpus", corpus.name}, {"corpus_digest", corpus_digest(corpus)}, {"model", source.describe()}, {"model_identity", source.identity()},
          {"max_lag", opt.states.max_lag}, {"state", source.state_kind()},
          {"max_train_positions", opt.max_train_positions}, {"max_eval_positions", opt.max_eval_positions},
          {"decoder_hidden", p.hidden}, {"decoder_depth", p.depth}, {"keep_prob", p.keep_prob},
          {"sweep_dropout", p.sweep_dropout}, {"lr", p.lr}, {"batch", p.batch}, {"max_epochs", p.max_epochs},
          {"patience", p.patience}, {"early_stopping", p.stop_together ? "bank" : "per decoder"}, {"bootstrap", p.bootstrap}, {"seed", opt.states.seed}, {"control", opt.control},
          {"targets", "the symbol d positions before the current one; <s> and positions before the segment start are skipped"},
          {"split", "decoders trained on train, selected on valid, reported on test"}};
  if (corpus.features && !corpus.features->timing().empty()) settings["timing"] = corpus.features->timing();
  return settings;
}

Signature compute_signature(const StateSource& source, const Corpus& corpus, const SignatureOptions& opt) {
  check_probe_options(opt.probe);
  if (opt.states.max_lag < 1) throw std::invalid_argument("--max-lag must be at least 1");
  std::unique_ptr<StateSource> untrained;  // asked for first: a kind without one fails before any work
  if (opt.control) {
    untrained = source.untrained_control(opt.states.seed + 1000);
    if (!untrained) throw std::invalid_argument(source.describe() + " has no untrained control (--control)");
  }
  json settings = signature_settings(source, corpus, opt);
  // Entries finished by an earlier, stopped run with the same settings and model: the partial file
  // {"settings": {...}, "trained": {"entries": [...]}, "control": {"entries": [...]}}.
  Probed trained_done, control_done;
  if (!opt.checkpoint.empty() && file_exists(opt.checkpoint)) {
    json old;
    try {
      old = json::parse(read_file(opt.checkpoint));
    } catch (const json::exception& e) {
      throw FileError(opt.checkpoint, std::string("not valid JSON: ") + e.what());
    }
    if (old.is_object() && old.value("settings", json()) == settings) {
      upgrade_partial_json(old);
      for (const char* part : {"trained", "control"}) {
        if (!old.contains(part)) throw FileError(opt.checkpoint, std::string("lacks '") + part + "'");
        ProbedModel pm = probed_from_json(old[part], opt.checkpoint, std::string(part) + " ", true);
        (std::string(part) == "trained" ? trained_done : control_done) = Probed{std::move(pm.entries), std::move(pm.test)};
      }
    } else if (!opt.quiet) {
      std::fprintf(stderr, "%s: written for other settings or another model; starting afresh\n", opt.checkpoint.c_str());
    }
  }
  auto partial = [](const Probed& p) { return to_json(ProbedModel{p.entries, std::nullopt, p.test}); };
  json ckpt = {{"settings", settings}, {"trained", partial(trained_done)}, {"control", partial(control_done)}};
  auto saver = [&](const char* part) {
    return [&, part](const Probed& p) {
      if (opt.checkpoint.empty()) return;
      ckpt[part] = partial(p);
      write_text_atomically(opt.checkpoint, ckpt.dump());
    };
  };
  Signature sig;
  Probed trained = probe_source(source, corpus, opt, "trained", std::move(trained_done), saver("trained"));
  sig.trained.entries = std::move(trained.entries);
  sig.trained.test = std::move(trained.test);
  if (const LanguageModel* lm = source.language_model()) sig.trained.forward = forward_accuracy(*lm, corpus.test);
  if (untrained) {
    ProbedModel c;
    if (const LanguageModel* lm = untrained->language_model()) c.forward = forward_accuracy(*lm, corpus.test);
    Probed probed = probe_source(*untrained, corpus, opt, "untrained control", std::move(control_done), saver("control"));
    c.entries = std::move(probed.entries);
    c.test = std::move(probed.test);
    sig.control = c;
  }
  if (opt.perfect_memory_k > 0) {
    sig.perfect = perfect_memory(corpus.train, corpus.test, opt.perfect_memory_k, opt.states.max_lag);
    attach_memory_equivalents(sig);
  }
  sig.settings = settings;
  return sig;
}

void attach_memory_equivalents(Signature& sig) {
  if (!sig.perfect) return;
  for (auto* pm : {&sig.trained, sig.control ? &*sig.control : nullptr}) {
    if (!pm) continue;
    for (auto& e : pm->entries) {
      std::vector<double> acc;
      for (auto& r : e.lags) if (r.lag <= sig.perfect->D && r.lag == (int)acc.size() + 1) acc.push_back(r.accuracy);
      e.memory_equivalent_k = memory_equivalent_k(*sig.perfect, acc);
    }
  }
}

std::vector<int> symbols_present(const EntrySignature& entry) {
  std::vector<int> out;
  for (int s = 0; s < V; ++s) {
    int64_t total = 0;
    for (auto& r : entry.lags) total += r.count[s];
    if (total > 0) out.push_back(s);
  }
  return out;
}
}  // namespace memsig
