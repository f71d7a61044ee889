#include "probe/decoders.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <random>
#include <stdexcept>

#include "engine/ops.h"
#include "engine/optim.h"

namespace memsig {

namespace {

constexpr int V = kNumSymbols;

// Per-dimension mean and 1/std of the training states.
struct Standardizer {
  std::vector<float> mean, inv_std;
  Standardizer(const std::vector<float>& X, int64_t n, int w) : mean(w, 0.0f), inv_std(w, 1.0f) {
    std::vector<double> s(w, 0.0), s2(w, 0.0);
    for (int64_t i = 0; i < n; ++i)
      for (int j = 0; j < w; ++j) { double v = X[(size_t)i * w + j]; s[j] += v; s2[j] += v * v; }
    for (int j = 0; j < w; ++j) {
      double m = n ? s[j] / n : 0.0, var = n ? s2[j] / n - m * m : 0.0;
      mean[j] = (float)m;
      inv_std[j] = var > 1e-12 ? (float)(1.0 / std::sqrt(var)) : 1.0f;
    }
  }
  // Standardised rows [rows] of X into a [rows.size(), w] tensor.
  Tensor gather(const std::vector<float>& X, int w, const int64_t* rows, int64_t count) const {
    Tensor t({count, w});
    for (int64_t r = 0; r < count; ++r) {
      const float* src = X.data() + (size_t)rows[r] * w;
      float* dst = t.ptr() + (size_t)r * w;
      for (int j = 0; j < w; ++j) dst[j] = (src[j] - mean[j]) * inv_std[j];
    }
    return t;
  }
};

Tensor uniform(std::vector<int64_t> shape, int fan_in, Rng& rng) {
  Tensor t(std::move(shape));
  float k = 1.0f / std::sqrt((float)fan_in);
  for (auto& v : t.data) v = rng.uniform(-k, k);
  return t;
}

// A bank of decoders, one per lag in `lags`, sharing the input.
struct Bank {
  std::vector<int> lags;
  int in, K, depth;
  Var W1, b1;                                     // stacked first layers [L*K, in], [L*K]
  std::vector<std::vector<std::pair<Var, Var>>> deeper;  // per decoder: further [K,K] layers
  std::vector<Var> Wo, bo;                        // per decoder: [V,K], [V]

  Bank(std::vector<int> lags_, int in_, int K_, int depth_, Rng& rng) : lags(std::move(lags_)), in(in_), K(K_), depth(depth_) {
    int L = (int)lags.size();
    if (depth == 0) K = V;  // a linear decoder: the stacked first layer gives the logits themselves
    W1 = param(uniform({(int64_t)L * K, in}, in, rng));
    b1 = param(uniform({(int64_t)L * K}, in, rng));
    deeper.resize(L);
    if (depth == 0) return;
    for (int d = 0; d < L; ++d) {
      for (int k = 1; k < depth; ++k) deeper[d].push_back({param(uniform({K, K}, K, rng)), param(uniform({K}, K, rng))});
      Wo.push_back(param(uniform({V, K}, K, rng)));
      bo.push_back(param(uniform({V}, K, rng)));
    }
  }
  std::vector<Var> params() const {
    std::vector<Var> p{W1, b1};
    for (size_t d = 0; d < Wo.size(); ++d) {
      for (auto& [w, b] : deeper[d]) { p.push_back(w); p.push_back(b); }
      p.push_back(Wo[d]);
      p.push_back(bo[d]);
    }
    return p;
  }
  // logits_d for every decoder; dropout (keep < 1) on hidden units when rng is given.
  std::vector<Var> forward(const Var& x, float keep, Rng* rng) const {
    if (depth == 0) {  // linear: logits_d = W_d s + b_d, all decoders in one GEMM
      Var z = linear(x, W1, b1);
      return lags.size() == 1 ? std::vector<Var>{z} : split(z, std::vector<int64_t>(lags.size(), V));
    }
    Var a = relu(linear(x, W1, b1));  // every decoder's first layer in one GEMM
    if (rng && keep < 1.0f) a = dropout(a, 1.0f - keep, *rng);
    std::vector<Var> blocks = lags.size() == 1 ? std::vector<Var>{a} : split(a, std::vector<int64_t>(lags.size(), K));
    std::vector<Var> logits;
    for (size_t d = 0; d < lags.size(); ++d) {
      Var h = blocks[d];
      for (auto& [w, b] : deeper[d]) {
        h = relu(linear(h, w, b));
        if (rng && keep < 1.0f) h = dropout(h, 1.0f - keep, *rng);
      }
      logits.push_back(linear(h, Wo[d], bo[d]));
    }
    return logits;
  }
  // Decoder d's weights, flattened (its rows of W1/b1 and its own layers), to keep the best.
  std::vector<float> snapshot(size_t d) const {
    std::vector<float> s(W1->value.data.begin() + d * K * in, W1->value.data.begin() + (d + 1) * K * in);
    s.insert(s.end(), b1->value.data.begin() + d * K, b1->value.data.begin() + (d + 1) * K);
    for (auto& [w, b] : deeper[d]) { s.insert(s.end(), w->value.data.begin(), w->value.data.end()); s.insert(s.end(), b->value.data.begin(), b->value.data.end()); }
    if (depth == 0) return s;
    s.insert(s.end(), Wo[d]->value.data.begin(), Wo[d]->value.data.end());
    s.insert(s.end(), bo[d]->value.data.begin(), bo[d]->value.data.end());
    return s;
  }
  void restore(size_t d, const std::vector<float>& s) {
    auto it = s.begin();
    auto take = [&](float* dst, size_t n) { std::copy(it, it + n, dst); it += n; };
    take(W1->value.ptr() + d * K * in, (size_t)K * in);
    take(b1->value.ptr() + d * K, K);
    for (auto& [w, b] : deeper[d]) { take(w->value.ptr(), w->value.numel()); take(b->value.ptr(), b->value.numel()); }
    if (depth == 0) return;
    take(Wo[d]->value.ptr(), Wo[d]->value.numel());
    take(bo[d]->value.ptr(), bo[d]->value.numel());
  }
};

// Argmax predictions of every decoder at every position of a state set: [L][n].
std::vector<std::vector<int8_t>> predict(const Bank& bank, const Standardizer& z, const StateSet& set, size_t entry) {
  NoGrad no_grad;
  const int w = set.width[entry];
  std::vector<std::vector<int8_t>> pred(bank.lags.size(), std::vector<int8_t>(set.n));
  std::vector<int64_t> rows;
  for (int64_t start = 0; start < set.n; start += 2048) {
    int64_t count = std::min<int64_t>(2048, set.n - start);
    rows.resize(count);
    for (int64_t r = 0; r < count; ++r) rows[r] = start + r;
    auto logits = bank.forward(constant(z.gather(set.states[entry], w, rows.data(), count)), 1.0f, nullptr);
    for (size_t d = 0; d < logits.size(); ++d) {
      const float* lg = logits[d]->value.ptr();
      for (int64_t r = 0; r < count; ++r) {
        const float* row = lg + r * V;
        pred[d][start + r] = (int8_t)(std::max_element(row, row + V) - row);
      }
    }
  }
  return pred;
}

double accuracy_at(const StateSet& set, int lag, const std::vector<int8_t>& pred) {
  int64_t hit = 0, n = 0;
  for (int64_t i = 0; i < set.n; ++i) {
    int32_t t = set.target(i, lag);
    if (t < 0) continue;
    ++n;
    hit += pred[i] == t;
  }
  return n ? (double)hit / n : 0.0;
}

struct Trained {
  std::vector<std::vector<float>> best;  // per decoder
  std::vector<double> best_valid;
  std::vector<int> best_epoch;
};

// Trains a bank at one keep probability with per-decoder early stopping on valid.
Trained train_bank(Bank& bank, const Standardizer& z, const StateSet& train, const StateSet& valid, size_t entry,
                   float keep, const ProbeOptions& opt, Rng& rng) {
  const size_t L = bank.lags.size();
  const int w = train.width[entry];
  Adam adam(bank.params(), opt.lr);
  Trained tr{std::vector<std::vector<float>>(L), std::vector<double>(L, -1.0), std::vector<int>(L, 0)};
  std::vector<int64_t> order(train.n);
  for (int64_t i = 0; i < train.n; ++i) order[i] = i;
  int since_improved = 0;
  auto start = std::chrono::steady_clock::now();
  std::vector<std::vector<int32_t>> targets(L);
  std::vector<std::vector<float>> masks(L);
  for (int epoch = 1; epoch <= opt.max_epochs && since_improved < opt.patience; ++epoch) {
    shuffle(order, rng);
    for (int64_t start = 0; start < train.n; start += opt.batch) {
      int64_t count = std::min<int64_t>(opt.batch, train.n - start);
      const int64_t* rows = order.data() + start;
      Var x = constant(z.gather(train.states[entry], w, rows, count));
      for (size_t d = 0; d < L; ++d) {
        targets[d].resize(count);
        masks[d].resize(count);
        for (int64_t r = 0; r < count; ++r) {
          int32_t t = train.target(rows[r], bank.lags[d]);
          targets[d][r] = t < 0 ? 0 : t;
          masks[d][r] = t < 0 ? 0.0f : 1.0f;
        }
      }
      auto logits = bank.forward(x, keep, &rng);
      Var loss = softmax_xent(logits[0], targets[0], masks[0]);
      for (size_t d = 1; d < L; ++d) loss = add(loss, softmax_xent(logits[d], targets[d], masks[d]));
      try {
        train_step(adam, loss, 0.0f);
      } catch (const NonFinite& e) {
        throw std::runtime_error(std::string("probe: decoder training went non-finite (") + e.what() + ")");
      }
    }
    auto pred = predict(bank, z, valid, entry);
    bool improved = false;
    for (size_t d = 0; d < L; ++d) {
      double acc = accuracy_at(valid, bank.lags[d], pred[d]);
      if (acc > tr.best_valid[d] + 1e-9) {
        tr.best_valid[d] = acc;
        tr.best[d] = bank.snapshot(d);
        tr.best_epoch[d] = epoch;
        improved = true;
      }
    }
    since_improved = improved ? 0 : since_improved + 1;
    if (!opt.quiet) {
      double mean = 0;
      for (double a : tr.best_valid) mean += a / L;
      double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      std::fprintf(stderr, "  decoders epoch %d/%d  %.0fk positions/s  mean best valid accuracy %.4f  elapsed %.0f s%s\n",
                   epoch, opt.max_epochs, (double)train.n * epoch / secs / 1000, mean, secs,
                   since_improved >= opt.patience ? "  (stopping: no decoder improved)" : "");
    }
  }
  return tr;
}

std::vector<int> all_lags(int L) {
  std::vector<int> lags;
  for (int d = 1; d <= L; ++d) lags.push_back(d);
  return lags;
}

}  // namespace

void check_probe_options(const ProbeOptions& o) {
  auto bad = [](const std::string& what) { throw std::invalid_argument(what); };
  if (o.hidden < 1) bad("--decoder-hidden must be at least 1");
  if (o.depth < 0) bad("--decoder-depth must be 0 (linear) or more hidden layers");
  if (!(o.keep_prob > 0 && o.keep_prob <= 1)) bad("--keep-prob must be in (0, 1]");
  if (!(o.lr > 0 && std::isfinite(o.lr))) bad("the decoder learning rate must be a positive number");
  if (o.batch < 1) bad("the decoder batch must be at least 1");
  if (o.max_epochs < 1) bad("--epochs must be at least 1");
  if (o.patience < 1) bad("--patience must be at least 1 (epochs without improvement before stopping)");
  if (o.bootstrap < 0) bad("the bootstrap count must not be negative");
}

namespace {

}  // namespace

struct TrainedDecoders::Impl {
  Bank bank;
  Standardizer z;
};

std::vector<std::vector<int8_t>> TrainedDecoders::predict(const StateSet& set, size_t entry) const {
  if (!impl) throw std::logic_error("TrainedDecoders::predict: no decoders kept");
  if (set.width[entry] != impl->bank.in)
    throw std::invalid_argument("TrainedDecoders::predict: states of width " + std::to_string(set.width[entry]) +
                                ", decoders of width " + std::to_string(impl->bank.in));
  return memsig::predict(impl->bank, impl->z, set, entry);
}

std::vector<LagResult> probe_layer(const StateSet& train, const StateSet& valid, const StateSet& test, size_t entry,
                                   const ProbeOptions& opt, TrainedDecoders* keep) {
  check_probe_options(opt);
  const int L = train.max_lag, w = train.width[entry];
  // Seeds follow the source's entry, not its place in this run: a layer's result does not depend
  // on which other layers are probed with it.
  const uint64_t key = (uint64_t)train.entries[entry];
  Standardizer z(train.states[entry], train.n, w);
  Rng rng(opt.seed * 31 + key);
  std::vector<float> keeps;
  if (opt.sweep_dropout) keeps = {0.5f, 0.6f, 0.7f, 0.8f, 0.9f, 1.0f};
  else keeps = {opt.keep_prob};

  Bank bank(all_lags(L), w, opt.hidden, opt.depth, rng);
  std::vector<LagResult> res(L);
  std::vector<std::vector<float>> chosen(L);
  for (float keep : keeps) {
    Rng init(opt.seed * 131 + key);
    Bank b(all_lags(L), w, opt.hidden, opt.depth, init);
    Trained tr = train_bank(b, z, train, valid, entry, keep, opt, rng);
    for (int d = 0; d < L; ++d) {
      if (tr.best_valid[d] > res[d].valid_accuracy || chosen[d].empty()) {
        res[d].valid_accuracy = tr.best_valid[d];
        res[d].keep_prob = keep;
        res[d].epochs = tr.best_epoch[d];
        chosen[d] = tr.best[d];
      }
    }
    if (!opt.quiet)
      std::fprintf(stderr, "  probe keep %.1f: valid accuracy d=1 %.3f ... d=%d %.3f\n", keep, tr.best_valid[0], L,
                   tr.best_valid[L - 1]);
  }
  for (int d = 0; d < L; ++d) bank.restore(d, chosen[d]);
  if (keep) keep->impl = std::make_shared<TrainedDecoders::Impl>(TrainedDecoders::Impl{bank, z});

  // Test metrics.
  auto pred = predict(bank, z, test, entry);
  std::vector<int64_t> train_freq(V, 0);
  std::mt19937_64 boot(opt.seed);
  for (int d = 0; d < L; ++d) {
    LagResult& r = res[d];
    r.lag = d + 1;
    std::fill(train_freq.begin(), train_freq.end(), 0);
    for (int64_t i = 0; i < train.n; ++i) if (int32_t t = train.target(i, r.lag); t >= 0) train_freq[t]++;
    int majority = (int)(std::max_element(train_freq.begin(), train_freq.end()) - train_freq.begin());
    r.count.assign(V, 0);
    r.confusion.assign((size_t)V * V, 0);
    int64_t hit = 0, majority_hit = 0;
    for (int64_t i = 0; i < test.n; ++i) {
      int32_t t = test.target(i, r.lag);
      if (t < 0) continue;
      r.n++;
      r.count[t]++;
      r.confusion[(size_t)t * V + pred[d][i]]++;
      hit += pred[d][i] == t;
      majority_hit += t == majority;
    }
    r.accuracy = r.n ? (double)hit / r.n : 0.0;
    r.test_predictions = pred[d];
    r.chance = r.n ? (double)majority_hit / r.n : 0.0;
    r.recall.assign(V, NAN);
    for (int s = 0; s < V; ++s) if (r.count[s]) r.recall[s] = (double)r.confusion[(size_t)s * V + s] / r.count[s];
    // Percentile bootstrap over test positions. Resampling n Bernoulli outcomes with replacement
    // gives a Binomial(n, accuracy) count, so each resample is one binomial draw.
    std::vector<double> acc(opt.bootstrap);
    std::binomial_distribution<int64_t> binom(r.n, r.accuracy);
    for (auto& a : acc) a = r.n ? (double)binom(boot) / r.n : 0.0;
    std::sort(acc.begin(), acc.end());
    if (!acc.empty()) {
      r.ci_lo = acc[(size_t)(0.025 * (acc.size() - 1))];
      r.ci_hi = acc[(size_t)(0.975 * (acc.size() - 1))];
    }
  }
  return res;
}

std::vector<double> probe_layer_one_by_one(const StateSet& train, const StateSet& valid, size_t entry,
                                           const ProbeOptions& opt, int only_lag) {
  check_probe_options(opt);
  const int w = train.width[entry];
  const uint64_t key = (uint64_t)train.entries[entry];
  Standardizer z(train.states[entry], train.n, w);
  Rng rng(opt.seed * 31 + key);
  std::vector<double> out;
  for (int d = 1; d <= train.max_lag; ++d) {
    if (only_lag > 0 && d != only_lag) continue;
    Rng init(opt.seed * 131 + key + d);
    Bank b({d}, w, opt.hidden, opt.depth, init);
    out.push_back(train_bank(b, z, train, valid, entry, opt.keep_prob, opt, rng).best_valid[0]);
  }
  return out;
}

}  // namespace memsig
