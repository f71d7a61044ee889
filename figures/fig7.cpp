// fig7.cpp — Figure 7: what a Listen-Attend-Spell model's encoder layers and decoder query remember.
// The first listener layer (listener 1: the BLSTM at the frame rate), the last listener layer
// (listener L: the top of the pyramid) and the speller's attention query, each a symbol x lag
// signature in the paper's format, with the model's test CER; and the paper's two LAS claims
// measured: (1) the last encoder layer recalls more than the first; (2) the decoder query recalls
// more than either. Each comparison is paired (the three entries stand on the same test rows, one per
// grapheme): a cluster bootstrap over test utterances per lag (probe/signature.h), and the mean
// over lags with the interval of figures/claims.h.
//
// Data: --data DIR (a speech set: train/, valid/, test/), else synthesized into WORK/fig7/data
// (espeak-ng; the quick preset: 60/10/10 short PTB sentences; the full one: the default set).
// Model: --model FILE when given (reused as is), else trained into WORK/fig7/las.safetensors
// (quick: a tiny LAS for 40 steps; full: the default sizes for --train-minutes), resumable; the
// signature is cached in WORK/fig7/signature.json (a stopped probe resumes from its partial file).
#include <cstdio>
#include <filesystem>

#include "engine/files.h"
#include "figures/claims.h"
#include "figures/figures.h"
#include "figures/render/heatmap.h"
#include "figures/signature_plots.h"
#include "models/train_las.h"
#include "probe/las_source.h"
#ifdef MEMSIG_ESPEAK
#include "corpora/synth.h"
#endif

namespace memsig {

namespace fs = std::filesystem;

namespace {

// Entry `a` against entry `b` of one signature: the paired bootstrap per lag and the mean difference.
struct Claim {
  Estimate diff;            // mean over lags of accuracy(b) - accuracy(a)
  int lags_up = 0, lags = 0;  // lags whose paired 95% interval lies above 0
  bool held() const { return diff.lo() > 0; }
};
Claim compare(const EntrySignature& a, const EntrySignature& b, const TestRows& test, int bootstrap, uint64_t seed) {
  Signature sa, sb;
  sa.trained.entries = {a};
  sb.trained.entries = {b};
  sa.trained.test = sb.trained.test = test;
  sa.trained.entries[0].entry = sb.trained.entries[0].entry = 1;  // matched as "the same entry"
  Claim c;
  c.diff = difference(mean_accuracy(b), mean_accuracy(a));
  auto d = diff_signatures(sa, sb, bootstrap, seed);
  if (!d.empty() && d[0].paired)
    for (size_t i = 0; i < d[0].accuracy_lo.size(); ++i) {
      ++c.lags;
      if (d[0].accuracy_lo[i] > 0) ++c.lags_up;
    }
  return c;
}

}  // namespace

void figure_fig7(const FigureOptions& opt) {
  if (opt.plan || !opt.entry.empty())
    throw std::invalid_argument("fig7 runs in one process: it has no job plan yet (run memsig figure fig7 without --plan/--entry)");
  const bool quick = opt.preset == "quick";
  const std::string work = opt.work_dir + "/fig7";
  make_dirs(work);
  make_dirs(opt.out_dir);
  std::string data = opt.data;
  if (data.empty()) {
    data = work + "/data";
#ifdef MEMSIG_ESPEAK
    SynthOptions so;
    so.out = data;
    so.seed = opt.seed;
    if (quick) { so.train = 60; so.valid = 10; so.test = 10; so.max_symbols = 40; so.jobs = 1; }
    if (!opt.quiet) std::fprintf(stderr, "fig7: speech set %s (%d/%d/%d utterances)\n", data.c_str(), so.train, so.valid, so.test);
    synthesize_corpus(so);  // resumable: spoken utterances are kept
#else
    throw std::runtime_error("fig7 needs a speech set: --data DIR, or a memsig built with espeak-ng to synthesize one");
#endif
  }
  std::string model = opt.model.empty() ? work + "/las.safetensors" : opt.model;
  const std::string done = model + ".done";
  if (!file_exists(model) || (opt.model.empty() && !file_exists(done))) {
    LasTrainOptions t;
    t.data = data;
    t.out = model;
    t.resume = true;
    t.seed = opt.seed;
    t.quiet = opt.quiet;
    t.lr = 2e-3f;
    t.epochs = 1000;
    if (quick) {
      t.model.listener_hidden = 16; t.model.speller_hidden = 32; t.model.attention = 16; t.model.embed = 8;
      t.batch = 8;
      t.max_steps = 40;
    } else {
      t.max_minutes = opt.train_minutes;
      t.eval_every = 300;
    }
    std::fprintf(stderr, "== fig7: training LAS -> %s\n", model.c_str());
    train_las(t);
    write_text_atomically(done, "trained\n");
  }
  std::shared_ptr<const LAS> las = load_las(model);
  Corpus corpus = speech_corpus(las, data, true);
  // Test CER by greedy decoding.
  LasSplit test = load_las_split(split_dir(data, "test"), las->cfg.feat_dim, &las->feat_mean, &las->feat_std, nullptr, nullptr, true);
  SetDecoding dec = decode_set(*las, test.set, 1);
  std::printf("fig7: %s: test CER %.2f%% WER %.2f%% (greedy, %zu utterances)\n", model.c_str(), dec.errors.cer(),
              dec.errors.wer(), dec.hyps.size());

  const int L = las->cfg.listener_layers;
  SignatureOptions so;
  so.states.max_lag = quick ? 4 : 10;
  so.states.seed = opt.seed;
  so.max_train_positions = quick ? 4000 : opt.max_train_positions;
  so.max_eval_positions = quick ? 2000 : 50000;
  so.probe.max_epochs = quick ? 3 : 20;
  so.probe.seed = opt.seed;
  so.probe.quiet = so.quiet = opt.quiet;
  so.perfect_memory_k = quick ? 2 : 5;
  so.states.entries = {0, L - 1, L};  // listener 1, listener L, speller query
  so.checkpoint = work + "/signature.partial.json";
  auto source = las_state_source(las);
  const std::string sig_path = work + "/signature.json";
  Signature sig;
  nlohmann::json settings = signature_settings(*source, corpus, so);
  bool cached = false;
  if (file_exists(sig_path)) {
    sig = load_signature(sig_path);
    cached = sig.settings == settings;
  }
  if (!cached) {
    std::fprintf(stderr, "== fig7: signature of %s\n", model.c_str());
    sig = compute_signature(*source, corpus, so);
    write_text_atomically(sig_path, to_json(sig).dump());
    std::remove(so.checkpoint.c_str());
  }
  if (sig.trained.entries.size() != 3) throw std::logic_error("fig7: the signature lacks an entry");
  const EntrySignature &first = sig.trained.entries[0], &last = sig.trained.entries[1], &query = sig.trained.entries[2];

  char cer[64];
  std::snprintf(cer, sizeof cer, "test CER %.1f%%", dec.errors.cer());
  std::vector<Canvas> panels{signature_heatmap(first, "listener layer 1 (first, frame rate)"),
                             signature_heatmap(last, "listener layer " + std::to_string(L) + " (last, " +
                                                         std::to_string(las->cfg.reduction()) + "x reduced)"),
                             signature_heatmap(query, std::string("speller attention query (model: ") + cer + ")")};
  Canvas fig = stack_panels(panels, false);
  fig.save_png(opt.out_dir + "/fig7.png");

  const int boot = quick ? 100 : 1000;
  const TestRows& rows = sig.trained.test;
  Claim c1 = compare(first, last, rows, boot, opt.seed), c2a = compare(first, query, rows, boot, opt.seed),
        c2b = compare(last, query, rows, boot, opt.seed);
  nlohmann::json out = {{"model", model}, {"describe", las->describe()}, {"data", data}, {"test_cer", dec.errors.cer()},
                        {"test_wer", dec.errors.wer()}, {"first", "listener 1"}, {"last", "listener " + std::to_string(L)}};
  auto report = [&](const char* name, const char* text, const Claim& c) {
    std::printf("fig7: claim %s: %s: mean accuracy difference %s; paired bootstrap: %d of %d lags above 0 -> %s\n", name,
                text, c.diff.str().c_str(), c.lags_up, c.lags, c.held() ? "held" : "not held");
    out["claims"][name] = {{"text", text}, {"difference", c.diff.value}, {"lo", c.diff.lo()}, {"hi", c.diff.hi()},
                           {"lags_above_zero", c.lags_up}, {"lags", c.lags}, {"held", c.held()}};
  };
  for (auto* e : {&first, &last, &query}) {
    Estimate m = mean_accuracy(*e);
    std::printf("fig7: %s: mean accuracy over lags %s  by lag:", e->name.c_str(), m.str().c_str());
    for (auto& r : e->lags) std::printf(" %.3f", r.accuracy);
    std::printf("\n");
    out["entries"][e->name] = {{"mean_accuracy", m.value}, {"se", m.se}};
  }
  report("last_over_first", "the last encoder layer recalls more than the first", c1);
  report("query_over_first", "the decoder query recalls more than the first encoder layer", c2a);
  report("query_over_last", "the decoder query recalls more than the last encoder layer", c2b);
  write_text_atomically(opt.out_dir + "/fig7.json", out.dump(1));
  std::printf("fig7: wrote %s/fig7.png, fig7.json (%s)\n", opt.out_dir.c_str(), cer);
}

}  // namespace memsig
