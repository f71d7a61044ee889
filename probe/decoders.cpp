#include "probe/decoders.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <random>
#include <stdexcept>
#ifdef __AVX__
#include <immintrin.h>
#endif

#include "engine/kernels.h"
#include "engine/ops.h"
#include "engine/optim.h"

namespace memsig {

namespace {

// The progress line after each decoder epoch.
void report_epoch(const ProbeOptions& opt, const std::vector<double>& best_valid, int epoch, int64_t rows,
                  std::chrono::steady_clock::time_point start, bool stopping) {
  double mean = 0;
  for (double a : best_valid) mean += a / best_valid.size();
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::fprintf(stderr, "  decoders epoch %d/%d  %.0fk positions/s  mean best valid accuracy %.4f  elapsed %.0f s%s\n", epoch,
               opt.max_epochs, (double)rows * epoch / secs / 1000, mean, secs, stopping ? "  (stopping: no decoder improved)" : "");
}


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
  // The same into a reused buffer: rows `rows[0..count)`, or `count` rows from `first`.
  void gather_rows(const std::vector<float>& X, int w, const int64_t* rows, int64_t count, std::vector<float>& out) const {
    out.resize((size_t)count * w);
    for (int64_t r = 0; r < count; ++r) standardise(X.data() + (size_t)rows[r] * w, out.data() + (size_t)r * w, w);
  }
  void gather_into(const std::vector<float>& X, int w, int64_t first, int64_t count, std::vector<float>& out) const {
    out.resize((size_t)count * w);
    for (int64_t r = 0; r < count; ++r) standardise(X.data() + (size_t)(first + r) * w, out.data() + (size_t)r * w, w);
  }
  void standardise(const float* src, float* dst, int w) const {
    for (int j = 0; j < w; ++j) dst[j] = (src[j] - mean[j]) * inv_std[j];
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

// Early stopping's bookkeeping after an epoch, for either bank: decoder d's weights are kept when
// its valid accuracy improved; `since` counts the epochs since it last did. True when it improved.
template <class AnyBank>
bool keep_if_better(const AnyBank& bank, Trained& tr, std::vector<int>& since, size_t d, double acc, int epoch) {
  since[d]++;
  if (!(acc > tr.best_valid[d] + 1e-9)) return false;
  tr.best_valid[d] = acc;
  tr.best[d] = bank.snapshot(d);
  tr.best_epoch[d] = epoch;
  since[d] = 0;
  return true;
}

// Trains a bank at one keep probability with per-decoder early stopping on valid.
Trained train_bank(Bank& bank, const Standardizer& z, const StateSet& train, const StateSet& valid, size_t entry,
                   float keep, const ProbeOptions& opt, Rng& rng) {
  const size_t L = bank.lags.size();
  const int w = train.width[entry];
  Adam adam(bank.params(), opt.lr);
  Trained tr{std::vector<std::vector<float>>(L), std::vector<double>(L, -1.0), std::vector<int>(L, 0)};
  std::vector<int64_t> order(train.n);
  for (int64_t i = 0; i < train.n; ++i) order[i] = i;
  int since_improved = 0;            // epochs since any decoder improved
  std::vector<int> since(L, 0);      // epochs since decoder d improved
  size_t stopped = 0;
  auto start = std::chrono::steady_clock::now();
  std::vector<std::vector<int32_t>> targets(L);
  std::vector<std::vector<float>> masks(L);
  for (int epoch = 1; epoch <= opt.max_epochs && since_improved < opt.patience && stopped < L; ++epoch) {
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
      // A stopped decoder keeps training here (its parameters are its own: that changes no other
      // decoder), but nothing after its stop is kept: the protocol of the fused bank.
      if (!opt.stop_together && since[d] >= opt.patience) continue;
      improved |= keep_if_better(bank, tr, since, d, accuracy_at(valid, bank.lags[d], pred[d]), epoch);
      if (!opt.stop_together && since[d] >= opt.patience) ++stopped;
    }
    since_improved = improved ? 0 : since_improved + 1;
    if (!opt.quiet) report_epoch(opt, tr.best_valid, epoch, train.n, start, since_improved >= opt.patience);
  }
  return tr;
}

// m = b1 m + (1-b1) g ;  v = b2 v + (1-b2) g^2 ;  p -= lr_t m / (sqrt(v) / sqrt(1-b2^t) + eps)
// (engine/optim.cpp's Adam). GCC leaves the plain loop scalar (sqrtf may set errno), and scalar it
// was ~18% of the fused bank's time, so on x86 it runs 8 lanes at a time with AVX.
void adam_update(float* p, const float* g, float* m, float* v, size_t n, float beta1, float beta2, float eps,
                 float step_size, float inv_sqrt_bc2) {
  size_t i = 0;
#ifdef __AVX__
  const __m256 b1 = _mm256_set1_ps(beta1), c1 = _mm256_set1_ps(1.0f - beta1), b2 = _mm256_set1_ps(beta2),
               c2 = _mm256_set1_ps(1.0f - beta2), e = _mm256_set1_ps(eps), lr = _mm256_set1_ps(step_size),
               s2 = _mm256_set1_ps(inv_sqrt_bc2);
  for (; i + 8 <= n; i += 8) {
    __m256 gi = _mm256_loadu_ps(g + i);
    __m256 mi = _mm256_add_ps(_mm256_mul_ps(b1, _mm256_loadu_ps(m + i)), _mm256_mul_ps(c1, gi));
    __m256 vi = _mm256_add_ps(_mm256_mul_ps(b2, _mm256_loadu_ps(v + i)), _mm256_mul_ps(_mm256_mul_ps(c2, gi), gi));
    _mm256_storeu_ps(m + i, mi);
    _mm256_storeu_ps(v + i, vi);
    __m256 den = _mm256_add_ps(_mm256_mul_ps(_mm256_sqrt_ps(vi), s2), e);
    _mm256_storeu_ps(p + i, _mm256_sub_ps(_mm256_loadu_ps(p + i), _mm256_div_ps(_mm256_mul_ps(lr, mi), den)));
  }
#endif
  for (; i < n; ++i) {
    m[i] = beta1 * m[i] + (1.0f - beta1) * g[i];
    v[i] = beta2 * v[i] + (1.0f - beta2) * g[i] * g[i];
    p[i] -= step_size * m[i] / (std::sqrt(v[i]) * inv_sqrt_bc2 + eps);
  }
}

// The fused bank: L decoders relu(W1_d s + b1_d) -> Wo_d a + bo_d written out by hand.
// Layout (B rows of a batch, LK = L*K): X [B, in]; Zt = A^T [LK, B]; logits^T per decoder [V, B].
//   forward:  Zt = W1 X^T (+ b1 down the rows), At = relu(Zt), Lt_d = Wo_d At_d (+ bo_d)
//   loss:     sum over d of the mean over masked rows of -log softmax(Lt_d[:, b])[t_b]
//   backward: dLt_d = (softmax - onehot) mask / M_d;  dWo_d = dLt_d At_d^T;  dbo_d = dLt_d 1
//             dAt_d = Wo_d^T dLt_d;  dZt = dAt * [At > 0];  dW1 = dZt X;  db1 = dZt 1
// Decoders live in slots; slots [0, active) are the ones still training, so that the products
// cover only them: a decoder that stops is swapped to the end of the arrays (its moments with it).
struct FusedBank {
  int in, K, L;                                // L: decoders
  int active;                                  // slots still training
  std::vector<int> decoder;                    // the decoder in each slot
  std::vector<float> W1, b1, Wo, bo;           // [L*K, in], [L*K], [L, V, K], [L, V]
  std::vector<float> gW1, gb1, gWo, gbo;       // gradients, same shapes
  std::vector<float> m, v;                     // Adam moments over all four, in that order
  std::vector<float> X, Zt, Lt, dZt;           // work buffers
  float t = 0;                                 // Adam's step count

  explicit FusedBank(const Bank& b) : in(b.in), K(b.K), L((int)b.lags.size()), active(L), decoder(L) {
    for (int d = 0; d < L; ++d) decoder[d] = d;
    W1 = b.W1->value.data;
    b1 = b.b1->value.data;
    for (int d = 0; d < L; ++d) {
      Wo.insert(Wo.end(), b.Wo[d]->value.data.begin(), b.Wo[d]->value.data.end());
      bo.insert(bo.end(), b.bo[d]->value.data.begin(), b.bo[d]->value.data.end());
    }
    gW1.resize(W1.size()); gb1.resize(b1.size()); gWo.resize(Wo.size()); gbo.resize(bo.size());
    m.assign(W1.size() + b1.size() + Wo.size() + bo.size(), 0.0f);
    v = m;
  }
  int slot_of(int d) const { return (int)(std::find(decoder.begin(), decoder.end(), d) - decoder.begin()); }
  // Decoder d stops training: its slot trades places with the last active one.
  void stop(int d) {
    const int a = slot_of(d), b = --active;
    if (a == b) return;
    size_t at = 0;
    auto swap_blocks = [&](std::vector<float>& p, size_t per) {
      std::swap_ranges(p.begin() + a * per, p.begin() + (a + 1) * per, p.begin() + b * per);
      std::swap_ranges(m.begin() + at + a * per, m.begin() + at + (a + 1) * per, m.begin() + at + b * per);
      std::swap_ranges(v.begin() + at + a * per, v.begin() + at + (a + 1) * per, v.begin() + at + b * per);
      at += p.size();
    };
    swap_blocks(W1, (size_t)K * in);
    swap_blocks(b1, K);
    swap_blocks(Wo, (size_t)V * K);
    swap_blocks(bo, V);
    std::swap(decoder[a], decoder[b]);
  }
  // Decoder d's weights in Bank::snapshot's order: its rows of W1, b1, then Wo_d, bo_d.
  std::vector<float> snapshot(int decoder_d) const {
    const int d = slot_of(decoder_d);
    std::vector<float> s(W1.begin() + (size_t)d * K * in, W1.begin() + (size_t)(d + 1) * K * in);
    s.insert(s.end(), b1.begin() + (size_t)d * K, b1.begin() + (size_t)(d + 1) * K);
    s.insert(s.end(), Wo.begin() + (size_t)d * V * K, Wo.begin() + (size_t)(d + 1) * V * K);
    s.insert(s.end(), bo.begin() + (size_t)d * V, bo.begin() + (size_t)(d + 1) * V);
    return s;
  }
  // At = relu(W1 X^T + b1) for the first `rows` rows of X (already standardised), active slots.
  void first_layer(int rows) {
    const int LK = active * K;
    Zt.resize((size_t)LK * rows);
    gemm(false, true, LK, rows, in, 1.0f, W1.data(), X.data(), 0.0f, Zt.data());
    for (int j = 0; j < LK; ++j) {
      float* z = Zt.data() + (size_t)j * rows;
      const float bj = b1[j];
      for (int r = 0; r < rows; ++r) z[r] = std::max(z[r] + bj, 0.0f);
    }
  }
  // Lt_d = Wo_d At_d + bo_d into Lt [V, rows] (d: a slot).
  void logits(int d, int rows) {
    Lt.resize((size_t)V * rows);
    gemm(false, false, V, rows, K, 1.0f, Wo.data() + (size_t)d * V * K, Zt.data() + (size_t)d * K * rows, 0.0f, Lt.data());
    for (int c = 0; c < V; ++c) {
      float* l = Lt.data() + (size_t)c * rows;
      const float bc = bo[(size_t)d * V + c];
      for (int r = 0; r < rows; ++r) l[r] += bc;
    }
  }
  // One Adam step of the active decoders on the batch in X (rows), targets per decoder (-1 =
  // masked). Returns the summed loss.
  double step(int rows, const std::vector<std::vector<int32_t>>& targets, float lr) {
    first_layer(rows);
    dZt.resize(Zt.size());
    std::vector<float> mx(rows), sum(rows);
    double loss = 0;
    for (int d = 0; d < active; ++d) {  // d: a slot
      logits(d, rows);
      const int32_t* tg = targets[decoder[d]].data();
      int count = 0;
      for (int r = 0; r < rows; ++r) count += tg[r] >= 0;
      const float w = 1.0f / (count > 0 ? (float)count : 1.0f);
      // Softmax down each column: max, exp, sum, then dLt = (p - onehot) mask / M.
      std::copy(Lt.begin(), Lt.begin() + rows, mx.begin());
      for (int c = 1; c < V; ++c) {
        const float* l = Lt.data() + (size_t)c * rows;
        for (int r = 0; r < rows; ++r) mx[r] = std::max(mx[r], l[r]);
      }
      for (int r = 0; r < rows; ++r) if (tg[r] >= 0) loss -= (double)(Lt[(size_t)tg[r] * rows + r] - mx[r]) * w;
      for (int c = 0; c < V; ++c) {
        float* l = Lt.data() + (size_t)c * rows;
        for (int r = 0; r < rows; ++r) l[r] -= mx[r];
      }
      exp_inplace(Lt.data(), (int64_t)V * rows);
      std::fill(sum.begin(), sum.end(), 0.0f);
      for (int c = 0; c < V; ++c) {
        const float* l = Lt.data() + (size_t)c * rows;
        for (int r = 0; r < rows; ++r) sum[r] += l[r];
      }
      for (int r = 0; r < rows; ++r) {
        if (tg[r] >= 0) loss += std::log((double)sum[r]) * w;
        sum[r] = tg[r] >= 0 ? w / sum[r] : 0.0f;  // the scale of column r's gradient
      }
      for (int c = 0; c < V; ++c) {
        float* l = Lt.data() + (size_t)c * rows;
        for (int r = 0; r < rows; ++r) l[r] *= sum[r];
      }
      for (int r = 0; r < rows; ++r) if (tg[r] >= 0) Lt[(size_t)tg[r] * rows + r] -= w;
      // dWo_d = dLt At_d^T, dbo_d = dLt 1, dAt_d = Wo_d^T dLt masked by At_d > 0.
      const float* At = Zt.data() + (size_t)d * K * rows;
      gemm(false, true, V, K, rows, 1.0f, Lt.data(), At, 0.0f, gWo.data() + (size_t)d * V * K);
      for (int c = 0; c < V; ++c) {
        const float* l = Lt.data() + (size_t)c * rows;
        float s = 0;
        for (int r = 0; r < rows; ++r) s += l[r];
        gbo[(size_t)d * V + c] = s;
      }
      float* dA = dZt.data() + (size_t)d * K * rows;
      gemm(true, false, K, rows, V, 1.0f, Wo.data() + (size_t)d * V * K, Lt.data(), 0.0f, dA);
      for (size_t i = 0; i < (size_t)K * rows; ++i) dA[i] = At[i] > 0.0f ? dA[i] : 0.0f;
    }
    if (!std::isfinite(loss)) throw std::runtime_error("probe: decoder training went non-finite (loss " + std::to_string(loss) + ")");
    // dW1 = dZt X, db1 = dZt 1.
    gemm(false, false, active * K, in, rows, 1.0f, dZt.data(), X.data(), 0.0f, gW1.data());
    for (int j = 0; j < active * K; ++j) {
      const float* dz = dZt.data() + (size_t)j * rows;
      float s = 0;
      for (int r = 0; r < rows; ++r) s += dz[r];
      gb1[j] = s;
    }
    adam(lr);
    return loss;
  }
  // PyTorch's Adam over the active decoders' parameters (adam_update).
  void adam(float lr) {
    const float beta1 = 0.9f, beta2 = 0.999f, eps = 1e-8f;
    t += 1.0f;
    const float bc1 = 1.0f - std::pow(beta1, t), bc2 = 1.0f - std::pow(beta2, t);
    const float step_size = lr / bc1, inv_sqrt_bc2 = 1.0f / std::sqrt(bc2);
    size_t at = 0;
    auto update = [&](std::vector<float>& p, const std::vector<float>& g, size_t per_decoder) {
      // the active slots come first
      adam_update(p.data(), g.data(), m.data() + at, v.data() + at, per_decoder * active, beta1, beta2, eps, step_size,
                  inv_sqrt_bc2);
      at += p.size();
    };
    update(W1, gW1, (size_t)K * in);
    update(b1, gb1, K);
    update(Wo, gWo, (size_t)V * K);
    update(bo, gbo, V);
  }
  // Argmax predictions of every active decoder at every position of a set: [L][n] (empty for
  // stopped decoders).
  std::vector<std::vector<int8_t>> predict(const Standardizer& z, const StateSet& set, size_t entry) {
    const int w = set.width[entry];
    std::vector<std::vector<int8_t>> pred(L);
    for (int d = 0; d < active; ++d) pred[decoder[d]].resize(set.n);
    std::vector<float> best;
    for (int64_t start = 0; start < set.n; start += 2048) {
      const int rows = (int)std::min<int64_t>(2048, set.n - start);
      z.gather_into(set.states[entry], w, start, rows, X);
      first_layer(rows);
      for (int d = 0; d < active; ++d) {
        logits(d, rows);
        best.assign(Lt.begin(), Lt.begin() + rows);
        std::vector<int8_t>& p = pred[decoder[d]];
        std::fill(p.begin() + start, p.begin() + start + rows, 0);
        for (int c = 1; c < V; ++c) {
          const float* l = Lt.data() + (size_t)c * rows;
          for (int r = 0; r < rows; ++r)
            if (l[r] > best[r]) { best[r] = l[r]; p[start + r] = (int8_t)c; }
        }
      }
    }
    return pred;
  }
};

// train_bank's protocol on the fused bank (the same shuffles from rng, the same early stopping).
Trained train_fused(const Bank& init, const Standardizer& z, const StateSet& train, const StateSet& valid, size_t entry,
                    const ProbeOptions& opt, Rng& rng) {
  FusedBank bank(init);
  const int L = bank.L, w = train.width[entry];
  Trained tr{std::vector<std::vector<float>>(L), std::vector<double>(L, -1.0), std::vector<int>(L, 0)};
  std::vector<int64_t> order(train.n);
  for (int64_t i = 0; i < train.n; ++i) order[i] = i;
  std::vector<std::vector<int32_t>> targets(L);
  std::vector<int> since(L, 0);  // epochs since decoder d last improved
  int since_improved = 0;        // epochs since any decoder did
  auto start = std::chrono::steady_clock::now();
  for (int epoch = 1; epoch <= opt.max_epochs && bank.active > 0 && since_improved < opt.patience; ++epoch) {
    shuffle(order, rng);
    for (int64_t first = 0; first < train.n; first += opt.batch) {
      const int count = (int)std::min<int64_t>(opt.batch, train.n - first);
      const int64_t* rows = order.data() + first;
      z.gather_rows(train.states[entry], w, rows, count, bank.X);
      for (int d = 0; d < L; ++d) {
        targets[d].resize(count);
        for (int r = 0; r < count; ++r) targets[d][r] = train.target(rows[r], init.lags[d]);
      }
      bank.step(count, targets, opt.lr);
    }
    auto pred = bank.predict(z, valid, entry);
    bool improved = false;
    for (int d = 0; d < L; ++d) {
      if (pred[d].empty()) continue;  // stopped
      improved |= keep_if_better(bank, tr, since, d, accuracy_at(valid, init.lags[d], pred[d]), epoch);
      if (!opt.stop_together && since[d] >= opt.patience) bank.stop(d);
    }
    since_improved = improved ? 0 : since_improved + 1;
    if (!opt.quiet) report_epoch(opt, tr.best_valid, epoch, train.n, start, since_improved >= opt.patience);
  }
  return tr;
}

// The fused bank covers the default decoder: one hidden layer, no dropout.
bool fused_applies(const ProbeOptions& opt, float keep) { return !opt.autograd_bank && opt.depth == 1 && keep >= 1.0f; }

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

std::vector<LagResult> probe_entry(const StateSet& train, const StateSet& valid, const StateSet& test, size_t entry,
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
    Trained tr = fused_applies(opt, keep) ? train_fused(b, z, train, valid, entry, opt, rng)
                                          : train_bank(b, z, train, valid, entry, keep, opt, rng);
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

std::vector<double> probe_entry_one_by_one(const StateSet& train, const StateSet& valid, size_t entry,
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
    Trained tr = fused_applies(opt, opt.keep_prob) ? train_fused(b, z, train, valid, entry, opt, rng)
                                                   : train_bank(b, z, train, valid, entry, opt.keep_prob, opt, rng);
    out.push_back(tr.best_valid[0]);
  }
  return out;
}

}  // namespace memsig
