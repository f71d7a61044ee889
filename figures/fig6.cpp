// fig6.cpp — Figure 6 (section 7 of the paper): what the parts of a bigram-factorized LSTM's kernel
// remember. The model's layer kernel is W(λ) = W0 + Σ_k λ_k u_k v_kᵀ over 1156 bigram bases
// (models/charlm.h). Views, each a state source for the probe (figures/README.md defines them):
//   full       the model as trained;
//   base       the base kernel alone: every λ_k = 0 (a view file with U = 0);
//   basis "ab" W0 + λ_ab u_ab v_abᵀ: only that basis on, λ_ab as the data gives it (a view file
//              whose U keeps column ab only);
//   ablation   the full model minus basis k, read by decoders trained ONCE on the full model's
//              states: the recall each basis's removal costs, per symbol and lag, for all 1156 bases
//              at the price of one probe training and 1156 evaluations. Only the test segments in
//              which bigram k occurs can change (λ_k = 0 elsewhere), so only those are rerun.
// Outputs: fig6.png (signatures of full, base and the bases xt ha in ld po he), fig6_ablation.png
// (the same bases' ablation maps), fig6_all_bases.png (every basis's recall cost per symbol),
// fig6.json (the numbers, the top bases per symbol, the permutation test of "a basis remembers the
// letters of its own bigram", the pruning table). Everything expensive is cached under WORK/fig6.
// --check-ablation N: the ablation view against decoders retrained on each ablated model's states,
// for the six named bases and the N of largest memory (and a control: retrained, nothing removed).
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>
#include <numeric>

#include "engine/files.h"
#include "figures/figures.h"
#include "figures/recipes.h"
#include "figures/signature_plots.h"
#include "models/bigram_lambda.h"
#include "models/model_file.h"
#include "probe/charlm_source.h"
#include "probe/decoders.h"
#include "probe/states.h"

namespace memsig {

namespace {

constexpr int V = kNumSymbols;

int bigram_of(const std::string& ab) { return bigram_index(symbol_of_char(ab[0]), symbol_of_char(ab[1])); }
std::string bigram_label(int k) { return symbol_label(k / V) + symbol_label(k % V); }

// Every `stride`-th segment: a small sample spread over both domains of a mixture.
std::vector<Segment> every_nth(const std::vector<Segment>& segs, size_t stride) {
  std::vector<Segment> out;
  for (size_t i = 0; i < segs.size(); i += std::max<size_t>(1, stride)) out.push_back(segs[i]);
  return out;
}

// The first n segments of each domain's test split (the mixture's test is A's then B's).
std::vector<Segment> test_subset(const Corpus& a, const Corpus& b, size_t n) {
  std::vector<Segment> out(a.test.begin(), a.test.begin() + std::min(n, a.test.size()));
  out.insert(out.end(), b.test.begin(), b.test.begin() + std::min(n, b.test.size()));
  return out;
}

// A copy of the model file whose U keeps only the columns in `keep` (empty: U = 0, the base kernel).
std::string write_view(const std::string& model_path, const std::vector<int>& keep, const std::string& out) {
  if (file_exists(out)) return out;
  auto m = load_model(model_path);
  for (auto& layer : m->rnn) {
    Tensor& u = layer.u->value;
    const int64_t K = u.dim(1);
    std::vector<uint8_t> on(K, 0);
    for (int k : keep) on[k] = 1;
    for (int64_t i = 0; i < u.dim(0); ++i)
      for (int64_t k = 0; k < K; ++k)
        if (!on[k]) u.data[i * K + k] = 0.0f;
  }
  save_trainable(out, *m);
  return out;
}

// Per test row of a state set extracted with every row kept: rows of one segment are contiguous,
// in position order. Returns each segment's first row (or -1).
std::vector<int64_t> first_rows(const StateSet& set, size_t segments) {
  std::vector<int64_t> first(segments, -1);
  for (int64_t r = 0; r < set.n; ++r)
    if (first[set.segment[r]] < 0) first[set.segment[r]] = r;
  return first;
}

struct Ablation {
  int L = 0;
  std::vector<std::vector<int64_t>> count;  // [L][V] test targets of the full set
  // per basis: recall lost when it is removed, [L*V] (full minus ablated hits / count); empty = no effect
  std::vector<std::vector<double>> drop;
  std::vector<int> segments_with;           // test segments in which the bigram occurs
};

nlohmann::json ablation_json(const Ablation& a, int done) {
  nlohmann::json j = {{"L", a.L}, {"done", done}, {"count", a.count}, {"segments_with", a.segments_with}};
  nlohmann::json d = nlohmann::json::object();
  for (size_t k = 0; k < a.drop.size(); ++k)
    if (!a.drop[k].empty()) d[std::to_string(k)] = a.drop[k];
  j["drop"] = d;
  return j;
}

// Σ over lags of the recall lost per symbol: the memory basis k carries for symbol s (cells with
// fewer than kMinRecallCount test targets left out, as in the signature maps).
std::vector<double> memory_of(const Ablation& a, int k) {
  std::vector<double> m(V, 0.0);
  if (a.drop[k].empty()) return m;
  for (int d = 0; d < a.L; ++d)
    for (int s = 0; s < V; ++s)
      if (a.count[d][s] >= kMinRecallCount) m[s] += a.drop[k][(size_t)d * V + s];
  return m;
}

}  // namespace

void figure_fig6(const FigureOptions& opt) {
  if (opt.plan || !opt.entry.empty())
    throw std::invalid_argument("fig6 runs in one process: it has no job plan yet (run memsig figure fig6 without --plan/--entry)");
  Preset preset = preset_named(opt.preset);
  const bool quick = preset.name == "quick";
  Lab lab(opt, preset);
  make_dirs(opt.out_dir);
  make_dirs(lab.path("fig6"));
  Corpus shakespeare = load_corpus("shakespeare"), ptb = load_corpus("ptb");
  Corpus mix = load_corpus("shakespeare+ptb");

  // The model: --model when given (trained there if the file is missing), else one trained here.
  CharLMConfig cfg;
  cfg.cell = Cell::LSTM; cfg.layers = 1; cfg.embed = preset.embed;
  cfg.hidden = quick ? 16 : 128;
  cfg.factorized = Factorized::Bigram;
  std::string model_path = opt.model;
  if (model_path.empty()) model_path = lab.model(mix, cfg, preset.budget_for(cfg.hidden), "mix");
  else if (!file_exists(model_path)) lab.model(mix, cfg, preset.budget_for(cfg.hidden), "mix", "", model_path);
  auto model = std::shared_ptr<CharLM>(load_model(model_path));
  if (model->bases() == 0) throw FileError(model_path, "is not a factorized model (fig6 needs --factorized bigram)");
  if (model->domain_lambda())  // its probe data is a sample of the mixture, read without naming each segment's corpus
    throw FileError(model_path, "has domain lambda: fig6 reads models with causal lambda (--lambda causal)");
  const int K = model->bases();

  // The probe's data: a sample of the mixture's train and valid segments, and a test set of the
  // first segments of each domain's test split, every row kept (the ablations are paired on them).
  const size_t n_test = quick ? 12 : 200, n_train_segs = quick ? 60 : 800, n_valid_segs = quick ? 20 : 150;
  Corpus probe_data;
  probe_data.name = "shakespeare+ptb sample";
  probe_data.train = every_nth(mix.train, mix.train.size() / n_train_segs);
  probe_data.valid = every_nth(mix.valid, mix.valid.size() / n_valid_segs);
  probe_data.test = test_subset(shakespeare, ptb, n_test);
  SignatureOptions so = lab.signature_options();
  so.perfect_memory_k = 0;
  so.max_eval_positions = 0;  // every test row
  // Nine probes (eight views and the ablations' decoders): a quarter of the positions and decoder
  // epochs of the other figures' full preset, so that Figure 6 fits a heavily shared 2-core machine.
  const int64_t train_positions = quick ? preset.train_positions : preset.train_positions / 4;
  so.max_train_positions = train_positions;
  so.probe.max_epochs = quick ? preset.decoder_epochs : preset.decoder_epochs / 4;
  std::fprintf(stderr, "fig6: %s; probe data %zu/%zu/%zu segments\n", model->describe().c_str(), probe_data.train.size(),
               probe_data.valid.size(), probe_data.test.size());

  // (1) Signatures of the views, each with its own decoders.
  const std::vector<std::string> named = {"xt", "ha", "in", "ld", "po", "he"};
  struct View { std::string tag, title; std::string path; Signature sig; };
  std::vector<View> views;
  views.push_back({"full", "the full model W0 + sum_k lambda_k u_k v_k^T", model_path, {}});
  views.push_back({"base", "the base kernel alone (every lambda_k = 0)", write_view(model_path, {}, lab.path("fig6/view_base.safetensors")), {}});
  for (auto& b : named)
    views.push_back({"basis_" + b, "basis '" + b + "' alone: W0 + lambda_" + b + " u_" + b + " v_" + b + "^T",
                     write_view(model_path, {bigram_of(b)}, lab.path("fig6/view_" + b + ".safetensors")), {}});
  const std::string model_tag = key_hash({{"model", weights_digest(*model)}});
  std::vector<int> cols;
  for (int s = symbol_of_char('a'); s <= symbol_of_char('z'); ++s) cols.push_back(s);
  for (char c : {' ', '.', '#'}) cols.push_back(symbol_of_char(c));
  std::vector<Canvas> panels;
  nlohmann::json out;
  out["model"] = model_path;
  out["model_describe"] = model->describe();
  for (auto& v : views) {
    v.sig = lab.signature(v.path, probe_data, so, "fig6_" + model_tag + "_" + v.tag);
    const auto& lags = v.sig.trained.entries.at(0).lags;
    double mean = 0;
    for (auto& r : lags) mean += r.accuracy / lags.size();
    panels.push_back(signature_heatmap(v.sig.trained.entries.at(0), "Signature of " + v.title, cols, 70));
    std::printf("fig6: %-10s mean accuracy over lags 1..%zu %.4f (lag 1 %.4f)\n", v.tag.c_str(), lags.size(), mean, lags[0].accuracy);
    out["views"].push_back({{"view", v.tag}, {"definition", v.title}, {"mean_accuracy", mean},
                            {"accuracy_by_lag", [&] { std::vector<double> a; for (auto& r : lags) a.push_back(r.accuracy); return a; }()}});
  }
  stack_panels(panels).save_png(opt.out_dir + "/fig6.png");

  // (2) Ablations: decoders trained once on the full model, then each basis removed in turn.
  CharLMSource full_source(model, "");
  StateOptions st;
  st.entries = {0};
  st.max_lag = preset.max_lag;
  st.seed = opt.seed;
  st.max_positions = 0;  // every position: the test split's rule, and the ablations' below
  // A source's states on the three splits: train and valid up to the preset's positions, all of test.
  struct SplitStates { StateSet train, valid, test; };
  auto extract_splits = [&](const StateSource& src) {
    StateOptions o = st;
    SplitStates s;
    o.max_positions = train_positions;
    s.train = extract_states(src, probe_data.train, o);
    o.max_positions = preset.eval_positions;
    s.valid = extract_states(src, probe_data.valid, o);
    o.max_positions = 0;
    s.test = extract_states(src, probe_data.test, o);
    return s;
  };
  SplitStates full = extract_splits(full_source);
  const StateSet &train = full.train, &valid = full.valid, &test = full.test;
  ProbeOptions po = so.probe;
  TrainedDecoders decoders;
  probe_entry(train, valid, test, 0, po, &decoders);
  const auto full_pred = decoders.predict(test, 0);
  const int L = st.max_lag;
  const auto first = first_rows(test, probe_data.test.size());
  Ablation ab;
  ab.L = L;
  ab.count.assign(L, std::vector<int64_t>(V, 0));
  for (int64_t r = 0; r < test.n; ++r)
    for (int d = 1; d <= L; ++d)
      if (int32_t t = test.target(r, d); t >= 0) ab.count[d - 1][t]++;
  ab.drop.assign(K, {});
  ab.segments_with.assign(K, 0);
  std::vector<std::vector<int>> segs_with(K);
  for (size_t i = 0; i < probe_data.test.size(); ++i) {
    std::vector<uint8_t> seen(K, 0);
    int prev = kBos;
    for (uint8_t c : probe_data.test[i]) {
      seen[bigram_index(prev, c)] = 1;
      prev = c;
    }
    for (int k = 0; k < K; ++k) if (seen[k]) segs_with[k].push_back((int)i);
  }
  for (int k = 0; k < K; ++k) ab.segments_with[k] = (int)segs_with[k].size();
  const std::string ab_path = lab.path("fig6/ablation_" + model_tag + "_" + key_hash({{"n_test", n_test}, {"L", L},
                                                                                      {"seed", opt.seed}, {"epochs", po.max_epochs},
                                                                                      {"train", train_positions}}) + ".json");
  int done = 0;
  if (file_exists(ab_path)) {  // resume
    auto j = nlohmann::json::parse(read_file(ab_path));
    done = j.at("done").get<int>();
    for (auto& [key, val] : j.at("drop").items()) ab.drop[std::stoi(key)] = val.get<std::vector<double>>();
    std::fprintf(stderr, "fig6: ablations resumed at basis %d of %d (%s)\n", done, K, ab_path.c_str());
  }
  auto ablated = std::make_shared<CharLM>(*model);
  // Recall lost per [lag][symbol] when basis k is removed, read by the once-trained decoders (empty:
  // no effect); only the test segments in which bigram k occurs are rerun.
  auto ablation_drop = [&](int k) -> std::vector<double> {
    if (segs_with[k].empty()) return {};
    std::vector<Segment> segs;
    for (int i : segs_with[k]) segs.push_back(probe_data.test[i]);
    ablated->bases_on.assign(K, 1);
    ablated->bases_on[k] = 0;
    StateSet abl = extract_states(CharLMSource(ablated, ""), segs, st);
    auto pred = decoders.predict(abl, 0);
    std::vector<double> drop((size_t)L * V, 0.0);
    for (int64_t r = 0, within = 0; r < abl.n; ++r) {
      within = r > 0 && abl.segment[r - 1] == abl.segment[r] ? within + 1 : 0;  // rows of a segment are contiguous
      const int64_t fr = first[segs_with[k][abl.segment[r]]] + within;        // the same row in the full test set
      for (int d = 1; d <= L; ++d) {
        const int32_t t = test.target(fr, d);
        if (t < 0) continue;
        drop[(size_t)(d - 1) * V + t] += (full_pred[d - 1][fr] == t) - (pred[d - 1][r] == t);
      }
    }
    bool any = false;
    for (int d = 0; d < L; ++d)
      for (int s = 0; s < V; ++s) {
        double& x = drop[(size_t)d * V + s];
        if (ab.count[d][s]) x /= ab.count[d][s];
        any = any || x != 0.0;
      }
    return any ? drop : std::vector<double>{};
  };
  for (int k = done; k < K; ++k) {
    ab.drop[k] = ablation_drop(k);
    if ((k + 1) % 50 == 0 || k + 1 == K) {
      write_text_atomically(ab_path, ablation_json(ab, k + 1).dump() + "\n");
      if (!opt.quiet) std::fprintf(stderr, "fig6: ablations %d/%d\n", k + 1, K);
    }
  }
  out["ablation"] = {{"cache", ab_path}, {"test_segments", probe_data.test.size()}, {"test_rows", test.n}};

  // (2b) How well the ablation view (decoders trained once, on the full model) agrees with decoders
  // retrained on each ablated model's own states, for the named bases and the `check_ablation` bases
  // of largest memory: per-lag marginal drop both ways, the correlation over symbol x lag cells and
  // the largest disagreement. The same probe settings, positions and seed as the once-trained
  // decoders; a control retrains them on the full model with another seed (what retraining moves
  // with nothing removed). Cached per basis (resumable).
  if (opt.check_ablation > 0) {
    std::vector<std::pair<double, int>> by_memory;
    for (int k = 0; k < K; ++k) {
      double total = 0;
      for (double x : memory_of(ab, k)) total += x;
      if (!ab.drop[k].empty()) by_memory.push_back({total, k});
    }
    std::sort(by_memory.rbegin(), by_memory.rend());
    std::vector<int> check;
    for (auto& b : named) check.push_back(bigram_of(b));
    for (auto& [total, k] : by_memory) {
      if ((int)check.size() >= (int)named.size() + opt.check_ablation) break;
      if (std::find(check.begin(), check.end(), k) == check.end()) check.push_back(k);
    }
    const std::string ck_path = lab.path("fig6/check_ablation_" + model_tag + "_" +
                                        key_hash({{"n_test", n_test}, {"L", L}, {"seed", opt.seed}, {"epochs", po.max_epochs},
                                                  {"train", train_positions}, {"hidden", po.hidden}}) + ".json");
    nlohmann::json ck = file_exists(ck_path) ? nlohmann::json::parse(read_file(ck_path)) : nlohmann::json::object();
    // Recall lost per [lag][symbol] when decoders `pred` (on rows aligned with the full test set)
    // answer instead of the once-trained decoders on the full model.
    auto drop_of = [&](const std::vector<LagResult>& lags) {
      std::vector<double> drop((size_t)L * V, 0.0);
      for (int d = 1; d <= L; ++d)
        for (int64_t r = 0; r < test.n; ++r)
          if (const int32_t t = test.target(r, d); t >= 0)
            drop[(size_t)(d - 1) * V + t] += (full_pred[d - 1][r] == t) - (lags[d - 1].test_predictions[r] == t);
      for (int d = 0; d < L; ++d)
        for (int s = 0; s < V; ++s)
          if (ab.count[d][s]) drop[(size_t)d * V + s] /= ab.count[d][s];
      return drop;
    };
    auto retrained = [&](std::shared_ptr<const CharLM> m, uint64_t seed) {
      CharLMSource src(m, "");
      SplitStates ablated = extract_splits(src);
      const StateSet &tr = ablated.train, &va = ablated.valid, &te = ablated.test;
      if (te.n != test.n) throw std::logic_error("fig6: the ablated model's test rows differ from the full model's");
      ProbeOptions p2 = po;
      p2.seed = seed;
      return drop_of(probe_entry(tr, va, te, 0, p2));
    };
    auto cached = [&](const std::string& key, auto compute) {
      if (!ck.contains(key)) {
        if (!opt.quiet) std::fprintf(stderr, "fig6: check-ablation: retraining decoders for %s\n", key.c_str());
        ck[key] = compute();
        write_text_atomically(ck_path, ck.dump() + "\n");
      }
      return ck[key].template get<std::vector<double>>();
    };
    // Per-lag marginal: accuracy lost over all test targets at that lag.
    auto marginal = [&](const std::vector<double>& drop) {
      std::vector<double> m(L, 0.0);
      for (int d = 0; d < L; ++d) {
        double lost = 0, n = 0;
        for (int s = 0; s < V; ++s) { lost += drop[(size_t)d * V + s] * ab.count[d][s]; n += ab.count[d][s]; }
        m[d] = n > 0 ? lost / n : 0.0;
      }
      return m;
    };
    auto cells = [&](const std::vector<double>& drop) {  // the cells the maps show (count >= kMinRecallCount)
      std::vector<double> c;
      for (int d = 0; d < L; ++d)
        for (int s = 0; s < V; ++s)
          if (ab.count[d][s] >= kMinRecallCount) c.push_back(drop.empty() ? 0.0 : drop[(size_t)d * V + s]);
      return c;
    };
    auto pearson = [](const std::vector<double>& a, const std::vector<double>& b) {
      double ma = 0, mb = 0, sab = 0, saa = 0, sbb = 0;
      for (size_t i = 0; i < a.size(); ++i) { ma += a[i] / a.size(); mb += b[i] / b.size(); }
      for (size_t i = 0; i < a.size(); ++i) {
        sab += (a[i] - ma) * (b[i] - mb); saa += (a[i] - ma) * (a[i] - ma); sbb += (b[i] - mb) * (b[i] - mb);
      }
      return saa > 0 && sbb > 0 ? sab / std::sqrt(saa * sbb) : NAN;
    };
    auto fmt_lags = [&](const std::vector<double>& m) {
      std::string t;
      char b[32];
      for (int d = 0; d < std::min(L, 5); ++d) { std::snprintf(b, sizeof b, " %+.4f", m[d]); t += b; }
      return t;
    };
    const std::vector<double> noise = cached("control_full_seed" + std::to_string(opt.seed + 1),
                                             [&] { return retrained(model, opt.seed + 1); });
    // Memory per symbol (recall lost summed over lags, as memory_of) of any drop vector.
    auto memory_vec = [&](const std::vector<double>& drop) {
      std::vector<double> m(V, 0.0);
      for (int d = 0; d < L; ++d)
        for (int s = 0; s < V; ++s)
          if (ab.count[d][s] >= kMinRecallCount) m[s] += drop[(size_t)d * V + s];
      return m;
    };
    const auto noise_mem = memory_vec(noise);
    const int noise_top = (int)(std::max_element(noise_mem.begin(), noise_mem.end(),
                                                 [](double a, double b) { return std::abs(a) < std::abs(b); }) - noise_mem.begin());
    std::printf("fig6: check-ablation control: retraining alone moves a symbol's memory (sum over lags) by up to %+.3f (%s)\n",
                noise_mem[noise_top], symbol_label(noise_top).c_str());
    const auto noise_m = marginal(noise);
    double noise_rms = 0;
    for (double x : cells(noise)) noise_rms += x * x;
    noise_rms = std::sqrt(noise_rms / std::max<size_t>(1, cells(noise).size()));
    std::printf("fig6: check-ablation control (nothing removed, decoders retrained with seed %llu): marginal drop lags 1..5%s; "
                "RMS over cells %.4f\n", (unsigned long long)(opt.seed + 1), fmt_lags(noise_m).c_str(), noise_rms);
    out["ablation_check"]["control"] = {{"marginal_drop", noise_m}, {"rms_over_cells", noise_rms}, {"seed", opt.seed + 1}, {"memory", noise_mem}};
    out["ablation_check"]["cache"] = ck_path;
    std::vector<double> all_once, all_re;
    for (int k : check) {
      const std::vector<double> re = cached("basis_" + std::to_string(k), [&] {
        auto m = std::make_shared<CharLM>(*model);
        m->bases_on.assign(K, 1);
        m->bases_on[k] = 0;
        return retrained(m, opt.seed);
      });
      // The once-trained view with this run's decoders (the cache may come from an earlier run's).
      std::vector<double> once = ablation_drop(k);
      if (once.empty()) once.assign((size_t)L * V, 0.0);
      double cache_dev = 0;
      for (size_t i = 0; i < once.size(); ++i) cache_dev = std::max(cache_dev, std::abs(once[i] - (ab.drop[k].empty() ? 0.0 : ab.drop[k][i])));
      const auto c_once = cells(once), c_re = cells(re);
      all_once.insert(all_once.end(), c_once.begin(), c_once.end());
      all_re.insert(all_re.end(), c_re.begin(), c_re.end());
      const double r = pearson(c_once, c_re);
      // The largest disagreement: the cell where the two drops differ most.
      int worst_d = 0, worst_s = 0;
      double worst = -1;
      for (int d = 0; d < L; ++d)
        for (int s = 0; s < V; ++s)
          if (ab.count[d][s] >= kMinRecallCount) {
            const double diff = std::abs(once[(size_t)d * V + s] - re[(size_t)d * V + s]);
            if (diff > worst) { worst = diff; worst_d = d; worst_s = s; }
          }
      const auto m_once = marginal(once), m_re = marginal(re);
      // Memory profiles over symbols both ways; the symbol the once-trained view says it remembers most.
      const auto mem_once = memory_vec(once), mem_re = memory_vec(re);
      const double r_mem = pearson(mem_once, mem_re);
      const int top_s = (int)(std::max_element(mem_once.begin(), mem_once.end()) - mem_once.begin());
      std::printf("fig6: check-ablation basis '%s': memory of %s (sum over lags) once-trained %+.3f, retrained %+.3f, control %+.3f; "
                  "r over symbols' memory %.3f\n", bigram_label(k).c_str(), symbol_label(top_s).c_str(), mem_once[top_s], mem_re[top_s],
                  noise_mem[top_s], r_mem);
      std::printf("fig6: check-ablation basis '%s': marginal drop lags 1..5 once-trained%s | retrained%s; r over cells %.3f; "
                  "largest disagreement lag %d symbol %s: %+.4f vs %+.4f; |once - cached ablation| <= %.4f\n",
                  bigram_label(k).c_str(), fmt_lags(m_once).c_str(), fmt_lags(m_re).c_str(), r, worst_d + 1,
                  symbol_label(worst_s).c_str(), once[(size_t)worst_d * V + worst_s], re[(size_t)worst_d * V + worst_s], cache_dev);
      out["ablation_check"]["bases"].push_back(
          {{"basis", bigram_label(k)}, {"max_abs_diff_from_cached_ablation", cache_dev}, {"marginal_drop_once", m_once}, {"marginal_drop_retrained", m_re}, {"r_over_cells", r},
           {"memory_once", mem_once}, {"memory_retrained", mem_re}, {"r_over_symbols_memory", r_mem},
           {"top_symbol", {{"symbol", symbol_label(top_s)}, {"once", mem_once[top_s]}, {"retrained", mem_re[top_s]}, {"control", noise_mem[top_s]}}},
           {"largest_disagreement", {{"lag", worst_d + 1}, {"symbol", symbol_label(worst_s)},
                                     {"once", once[(size_t)worst_d * V + worst_s]}, {"retrained", re[(size_t)worst_d * V + worst_s]}}}});
    }
    const double r_all = pearson(all_once, all_re);
    std::printf("fig6: check-ablation: r over all %zu checked cells %.3f\n", all_once.size(), r_all);
    out["ablation_check"]["r_over_all_cells"] = r_all;
  }

  // The named bases' ablation maps.
  std::vector<Canvas> ab_panels;
  for (auto& b : named) {
    Heatmap h;
    h.title = "Ablation of basis '" + b + "': recall lost when it alone is removed (decoders trained on the full model)";
    h.x_title = "symbol"; h.y_title = "lag d"; h.colorbar_title = "recall full - ablated";
    h.diverging = true;
    h.min_left = 70;
    const int k = bigram_of(b);
    double vmax = 1e-3;
    for (int s : cols) h.cols.push_back(symbol_label(s));
    for (int d = 0; d < L; ++d) {
      h.rows.push_back(std::to_string(d + 1));
      for (int s : cols) {
        double v = ab.drop[k].empty() ? 0.0 : ab.drop[k][(size_t)d * V + s];
        h.values.push_back(ab.count[d][s] >= kMinRecallCount ? v : NAN);
        if (ab.count[d][s] >= kMinRecallCount) vmax = std::max(vmax, std::abs(v));
      }
    }
    h.vmax = vmax;
    ab_panels.push_back(draw_heatmap(h));
  }
  stack_panels(ab_panels).save_png(opt.out_dir + "/fig6_ablation.png");

  // (3) All bases: memory per symbol (recall lost summed over lags), the map, the top bases per
  // symbol, and the permutation test of "a basis's memory is of its own bigram's letters".
  std::vector<int> active;
  for (int k = 0; k < K; ++k) if (!ab.drop[k].empty()) active.push_back(k);
  std::vector<std::vector<double>> M(K);
  for (int k = 0; k < K; ++k) M[k] = memory_of(ab, k);
  {
    Heatmap h;
    h.title = "Every basis with an effect (" + std::to_string(active.size()) + " of " + std::to_string(K) +
              "), ordered by bigram: recall lost when it is removed, summed over lags 1.." + std::to_string(L);
    h.x_title = "basis (bigram; labelled where the first symbol changes)";
    h.y_title = "symbol recalled";
    h.colorbar_title = "recall lost (sum over lags)";
    h.diverging = true;
    h.cell_w = 3;
    h.cell_h = 14;
    std::vector<int> rows_syms;
    for (int s = 3; s < V; ++s) rows_syms.push_back(s);  // a..z, space, . , # '
    for (int s : rows_syms) h.rows.push_back(symbol_label(s));
    int last_first = -1;
    for (int k : active) {
      h.cols.push_back(k / V != last_first ? symbol_label(k / V) : "");
      last_first = k / V;
    }
    std::vector<double> mags;
    for (int s : rows_syms)
      for (int k : active) {
        h.values.push_back(M[k][s]);
        if (M[k][s] != 0) mags.push_back(std::abs(M[k][s]));
      }
    std::sort(mags.begin(), mags.end());  // colours clipped at the 99th percentile of |value|
    h.vmax = mags.empty() ? 1e-3 : std::max(1e-3, mags[(size_t)(0.99 * (mags.size() - 1))]);
    h.colorbar_title = "recall lost (sum over lags; clipped at the 99th pct)";
    draw_heatmap(h).save_png(opt.out_dir + "/fig6_all_bases.png");
  }
  nlohmann::json top = nlohmann::json::object();
  for (int s = 3; s < V; ++s) {
    std::vector<int> order = active;
    std::sort(order.begin(), order.end(), [&](int a, int b) { return M[a][s] > M[b][s]; });
    nlohmann::json row = nlohmann::json::array();
    for (size_t i = 0; i < std::min<size_t>(3, order.size()); ++i)
      if (M[order[i]][s] > 0) row.push_back({{"basis", bigram_label(order[i])}, {"recall_lost", M[order[i]][s]}});
    top[symbol_label(s)] = row;
  }
  out["top_bases_per_symbol"] = top;
  // Permutation test over bigram labels among the bases with an effect: statistic = how many bases
  // have their largest memory on one of their own bigram's two symbols.
  auto own_top = [&](const std::vector<int>& label_of) {
    int hits = 0;
    for (size_t i = 0; i < active.size(); ++i) {
      const auto& m = M[active[i]];
      const int best = (int)(std::max_element(m.begin(), m.end()) - m.begin());
      if (m[best] <= 0) continue;
      const int lab_k = label_of[i];
      hits += best == lab_k / V || best == lab_k % V;
    }
    return hits;
  };
  std::vector<int> labels = active;
  const int observed = own_top(labels);
  const int n_perm = quick ? 200 : 10000;
  Rng prng(opt.seed + 6);
  int at_least = 0;
  double perm_mean = 0;
  for (int p = 0; p < n_perm; ++p) {
    std::vector<int> shuffled = labels;
    shuffle(shuffled, prng);
    const int h = own_top(shuffled);
    at_least += h >= observed;
    perm_mean += (double)h / n_perm;
  }
  const double p_value = (1.0 + at_least) / (1.0 + n_perm);
  std::printf("fig6: %zu bases with an effect; %d have their largest memory on a letter of their own bigram "
              "(permuted labels: %.1f on average); permutation p = %.4g (%d permutations)\n",
              active.size(), observed, perm_mean, p_value, n_perm);
  out["own_bigram_test"] = {{"bases_with_effect", active.size()}, {"observed", observed}, {"permutation_mean", perm_mean},
                            {"p_value", p_value}, {"permutations", n_perm}};
  {  // the 'he' observation: where do 't' and 'h' rank in the 'he' basis's memory?
    const auto& m = M[bigram_of("he")];
    std::vector<int> order(V);
    std::iota(order.begin(), order.end(), 0);
    std::sort(order.begin(), order.end(), [&](int a, int b) { return m[a] > m[b]; });
    auto rank = [&](char c) { return (int)(std::find(order.begin(), order.end(), symbol_of_char(c)) - order.begin()) + 1; };
    std::string top3;
    for (int i = 0; i < 3; ++i) if (m[order[i]] > 0) top3 += symbol_label(order[i]) + " ";
    std::printf("fig6: basis 'he': largest memory of %s; 't' ranks %d, 'h' ranks %d of %d\n", top3.c_str(), rank('t'), rank('h'), V);
    out["he_basis"] = {{"memory", m}, {"rank_t", rank('t')}, {"rank_h", rank('h')}, {"top3", top3}};
  }

  // (4) Pruning by memory: remove the N bases whose memory is most of symbols rare in a target
  // domain (score below; p_k the basis's positive memory profile, f the domains' training unigram
  // frequencies), against N random bases (several draws) and the N of smallest norm |u_k| |v_k|;
  // perplexity on each domain's test segments before and after.
  const size_t n_eval = quick ? 20 : 500;
  std::vector<Segment> eval_shake(shakespeare.test.begin(), shakespeare.test.begin() + std::min(n_eval, shakespeare.test.size()));
  std::vector<Segment> eval_ptb(ptb.test.begin(), ptb.test.begin() + std::min(n_eval, ptb.test.size()));
  auto ppl_with = [&](const std::vector<int>& removed) {
    auto m = std::make_shared<CharLM>(*model);
    m->bases_on.assign(K, 1);
    for (int k : removed) m->bases_on[k] = 0;
    return std::pair<double, double>{evaluate(*m, eval_shake).perplexity, evaluate(*m, eval_ptb).perplexity};
  };
  std::vector<double> norm(K, 0.0);
  for (auto& layer : model->rnn) {
    const Tensor &u = layer.u->value, &v = layer.v->value;
    for (int k = 0; k < K; ++k) {
      double nu = 0, nv = 0;
      for (int64_t i = 0; i < u.dim(0); ++i) nu += (double)u.data[i * K + k] * u.data[i * K + k];
      for (int64_t j = 0; j < v.dim(1); ++j) nv += (double)v.data[k * v.dim(1) + j] * v.data[k * v.dim(1) + j];
      norm[k] += std::sqrt(nu * nv);
    }
  }
  const int n_prune = quick ? 5 : 100;
  const int draws = quick ? 2 : 3;
  auto before = ppl_with({});
  std::printf("fig6: perplexity before pruning: Shakespeare %.4f, PTB %.4f (first %zu test segments each)\n", before.first,
              before.second, n_eval);
  out["pruning"]["before"] = {{"shakespeare", before.first}, {"ptb", before.second}, {"eval_segments", n_eval}, {"removed", n_prune}};
  auto unigram = [](const Corpus& c) {  // add-one smoothed symbol frequencies of a training split
    std::vector<double> f(V, 1.0);
    double total = V;
    for (auto& seg : c.train) for (uint8_t ch : seg) { f[ch] += 1; total += 1; }
    for (auto& x : f) x /= total;
    return f;
  };
  const std::vector<double> f_shake = unigram(shakespeare), f_ptb = unigram(ptb);
  for (const Corpus* target : {&ptb, &shakespeare}) {
    // A basis's score for a target domain: how much of its memory is of symbols rarer in the target
    // than in the other domain, score_k = Σ_s p_k(s) log2(f_other(s) / f_target(s)).
    const auto& f = target == &ptb ? f_ptb : f_shake;
    const auto& g = target == &ptb ? f_shake : f_ptb;
    std::vector<std::pair<double, int>> score;
    for (int k : active) {
      double pos = 0, sc = 0;
      for (int s = 0; s < V; ++s) pos += std::max(0.0, M[k][s]);
      if (pos <= 0) continue;
      for (int s = 0; s < V; ++s) sc += std::max(0.0, M[k][s]) / pos * std::log2(g[s] / f[s]);
      score.push_back({sc, k});
    }
    std::sort(score.rbegin(), score.rend());
    std::vector<int> by_memory;
    for (int i = 0; i < std::min<int>(n_prune, (int)score.size()); ++i) by_memory.push_back(score[i].second);
    std::vector<int> by_norm(K);
    std::iota(by_norm.begin(), by_norm.end(), 0);
    std::sort(by_norm.begin(), by_norm.end(), [&](int a, int b) { return norm[a] < norm[b]; });
    by_norm.resize(by_memory.size());
    auto mem = ppl_with(by_memory), small = ppl_with(by_norm);
    std::vector<double> rs, rp;
    for (int d = 0; d < draws; ++d) {
      std::vector<int> all(K);
      std::iota(all.begin(), all.end(), 0);
      Rng rr(opt.seed * 1000 + d);
      shuffle(all, rr);
      all.resize(by_memory.size());
      auto r = ppl_with(all);
      rs.push_back(r.first);
      rp.push_back(r.second);
    }
    auto mean_sd = [](const std::vector<double>& x) {
      double m = 0, v = 0;
      for (double a : x) m += a / x.size();
      for (double a : x) v += (a - m) * (a - m) / std::max<size_t>(1, x.size() - 1);
      return std::pair<double, double>{m, std::sqrt(v)};
    };
    auto [ms, ss] = mean_sd(rs);
    auto [mp, sp] = mean_sd(rp);
    std::string first_pruned;
    for (size_t i = 0; i < std::min<size_t>(8, by_memory.size()); ++i) first_pruned += bigram_label(by_memory[i]) + " ";
    std::printf("fig6: pruning %zu bases for target %s (first: %s): by memory Shakespeare %.4f PTB %.4f; random (%d draws) "
                "Shakespeare %.4f +- %.4f PTB %.4f +- %.4f; smallest norm Shakespeare %.4f PTB %.4f\n",
                by_memory.size(), target->name.c_str(), first_pruned.c_str(), mem.first, mem.second, draws, ms, ss, mp, sp,
                small.first, small.second);
    out["pruning"]["target_" + target->name] = {
        {"by_memory", {{"shakespeare", mem.first}, {"ptb", mem.second}}},
        {"random", {{"shakespeare_mean", ms}, {"shakespeare_sd", ss}, {"ptb_mean", mp}, {"ptb_sd", sp}, {"draws", draws}}},
        {"smallest_norm", {{"shakespeare", small.first}, {"ptb", small.second}}},
        {"first_pruned", first_pruned}};
  }
  write_text_atomically(opt.out_dir + "/fig6.json", out.dump(1) + "\n");
  std::printf("fig6: wrote %s/fig6.png, fig6_ablation.png, fig6_all_bases.png, fig6.json\n", opt.out_dir.c_str());
}

}  // namespace memsig
