#include "models/ngram.h"

#include <algorithm>
#include <cstdio>
#include <cmath>
#include <limits>
#include <stdexcept>

namespace memsig {

std::vector<uint8_t> ngram_symbols(uint64_t key, int k) {
  std::vector<uint8_t> w(k);
  for (int i = k - 1; i >= 0; --i, key >>= 6) w[i] = (uint8_t)(key & 63);
  return w;
}

double NgramScore::bpc() const { return targets ? nats / targets / std::log(2.0) : 0.0; }
double NgramScore::perplexity() const { return std::exp2(bpc()); }

namespace {

const double kLn10 = std::log(10.0);

struct Count {
  uint64_t key;
  int64_t count;
};

// Keys with repeats -> distinct keys, ascending, with how often each occurred.
std::vector<Count> count_keys(std::vector<uint64_t>& keys) {
  std::sort(keys.begin(), keys.end());
  std::vector<Count> out;
  for (size_t i = 0; i < keys.size();) {
    size_t j = i + 1;
    while (j < keys.size() && keys[j] == keys[i]) ++j;
    out.push_back({keys[i], (int64_t)(j - i)});
    i = j;
  }
  return out;
}

// Count-of-counts of one order's adjusted counts (the zero-count unigrams do not count).
NgramDiscounts order_discounts(const std::vector<Count>& grams) {
  int64_t n[5] = {0, 0, 0, 0, 0};
  for (const Count& g : grams)
    if (g.count >= 1 && g.count <= 4) n[g.count]++;
  return kn_discounts(n[1], n[2], n[3], n[4]);
}

}  // namespace

// Chen & Goodman's three discounts, or the single-discount fallback when they are undefined or
// out of range (see ngram.h).
NgramDiscounts kn_discounts(int64_t n1_, int64_t n2_, int64_t n3_, int64_t n4_) {
  NgramDiscounts d;
  d.n[1] = n1_, d.n[2] = n2_, d.n[3] = n3_, d.n[4] = n4_;
  const double n1 = (double)n1_, n2 = (double)n2_, n3 = (double)n3_, n4 = (double)n4_;
  std::string why;
  if (n1 > 0 && n2 > 0 && n3 > 0 && n4 > 0) {
    double Y = n1 / (n1 + 2 * n2);
    d.d1 = 1 - 2 * Y * n2 / n1;
    d.d2 = 2 - 3 * Y * n3 / n2;
    d.d3 = 3 - 4 * Y * n4 / n3;
    if (d.d1 > 0 && d.d1 < 1 && d.d2 > 0 && d.d2 < 2 && d.d3 > 0 && d.d3 < 3) return d;
    char buf[160];
    std::snprintf(buf, sizeof buf, "D1 %.4g, D2 %.4g, D3+ %.4g not all in (0, c)", d.d1, d.d2, d.d3);
    why = buf;
  } else {
    for (int r = 1; r <= 4; ++r)
      if (d.n[r] == 0) why += (why.empty() ? "n" : ", n") + std::to_string(r) + " = 0";
  }
  const bool ney = n1 > 0 && n2 > 0;
  const double D = ney ? n1 / (n1 + 2 * n2) : 0.5;
  d.d1 = d.d2 = d.d3 = D;
  char buf[80];
  if (ney) std::snprintf(buf, sizeof buf, "single discount D = n1/(n1+2 n2) = %.4g", D);
  else std::snprintf(buf, sizeof buf, "single discount D = 0.5");
  d.fallback = std::string(buf) + " (" + why + ")";
  return d;
}

int64_t NgramLM::index_of(int k, uint64_t key) const {
  if (k < 1 || k > order_) return -1;
  const auto& g = grams_[k];
  auto it = std::lower_bound(g.begin(), g.end(), key, [](const NgramEntry& e, uint64_t x) { return e.key < x; });
  return it != g.end() && it->key == key ? it - g.begin() : -1;
}

const NgramEntry* NgramLM::find(int k, uint64_t key) const {
  int64_t i = index_of(k, key);
  return i < 0 ? nullptr : &grams_[k][i];
}

void NgramLM::train(const std::vector<Segment>& train, int order) {
  if (order < 1 || order > kMaxNgramOrder)
    throw std::invalid_argument("n-gram order " + std::to_string(order) + " is not in 1.." +
                                std::to_string(kMaxNgramOrder));
  const int N = order;
  order_ = N;
  arcs_.clear();  // until compile() succeeds, the model is empty
  offset_.clear();
  states_ = 0;

  // Windows: at each target position j of <s> c1..cn </s>, the min(N, j+1) symbols ending at j.
  // Full-length windows are the order-N n-grams; shorter ones all start with <s>.
  std::vector<std::vector<uint64_t>> windows(N + 1);
  size_t targets = 0;
  for (const Segment& s : train) targets += s.size() + 1;
  windows[N].reserve(targets);
  const uint64_t mask = ngram_suffix(~0ull, N);
  for (const Segment& s : train) {
    uint64_t key = kBos;
    int len = 1;
    for (size_t j = 0; j <= s.size(); ++j) {
      int w = j < s.size() ? s[j] : kEos;
      if (j < s.size() && (w < 2 || w >= kNumSymbols))
        throw std::invalid_argument("training segment holds symbol id " + std::to_string(w));
      key = (key << 6 | (uint64_t)w) & mask;
      len = std::min(len + 1, N);
      windows[len].push_back(key);
    }
  }

  // Adjusted counts. Order N: raw counts. Order k < N: one count per distinct (k+1)-gram v g for
  // its suffix g (the continuation count N1+(. g)), plus raw counts of the k-grams starting with
  // <s> (the short windows of length k), which have no left neighbour.
  std::vector<std::vector<Count>> counts(N + 1);
  counts[N] = count_keys(windows[N]);
  for (int k = N - 1; k >= 1; --k) {
    std::vector<uint64_t> keys = std::move(windows[k]);
    keys.reserve(keys.size() + counts[k + 1].size());
    for (const Count& g : counts[k + 1]) keys.push_back(ngram_suffix(g.key, k));
    counts[k] = count_keys(keys);
  }
  discounts_.assign(N + 1, NgramDiscounts());
  for (int k = 1; k <= N; ++k) discounts_[k] = order_discounts(counts[k]);

  grams_.assign(N + 1, {});
  // Unigrams: p_1(w) = max(a(w) - D(a(w)), 0) / S + gamma / 33 for the 33 predictable symbols,
  // seen or not; <s> is stored (it is the start context) with ARPA's conventional log10 p = -99.
  {
    std::vector<int64_t> a(kNumSymbols, 0);
    for (const Count& g : counts[1]) a[g.key] = g.count;
    const NgramDiscounts& D = discounts_[1];
    double S = 0, mass = 0;
    for (int w = 1; w < kNumSymbols; ++w) {
      S += (double)a[w];
      mass += std::min((double)a[w], D.of(a[w]));
    }
    if (S <= 0) throw std::invalid_argument("no training text");
    double gamma = mass / S;  // the discounted mass, = (D1 N1 + D2 N2 + D3+ N3+) / S
    grams_[1].resize(kNumSymbols);
    for (int w = 0; w < kNumSymbols; ++w) {
      grams_[1][w].key = (uint64_t)w;
      double p = std::max((double)a[w] - D.of(a[w]), 0.0) / S + gamma / kPredictable;
      grams_[1][w].log_prob = w == kBos ? -99 * kLn10 : std::log(p);
    }
  }

  // Orders 2..N, a context h (a run of equal ngram_context keys) at a time:
  //   p_k(w|h) = max(a(hw) - D(a(hw)), 0) / S(h) + gamma(h) p_{k-1}(w|h')
  // then h's back-off weight alpha(h) = (1 - sum P(hw)) / (1 - sum p(w|h')) over the w seen after h.
  for (int k = 2; k <= N; ++k) {
    const std::vector<Count>& c = counts[k];
    const NgramDiscounts& D = discounts_[k];
    std::vector<NgramEntry>& out = grams_[k];
    out.resize(c.size());
    for (size_t i = 0; i < c.size();) {
      const uint64_t h = ngram_context(c[i].key);
      size_t j = i;
      double S = 0, mass = 0;
      for (; j < c.size() && ngram_context(c[j].key) == h; ++j) {
        S += (double)c[j].count;
        mass += std::min((double)c[j].count, D.of(c[j].count));
      }
      const double gamma = mass / S;
      double seen = 0, seen_lower = 0;
      for (size_t e = i; e < j; ++e) {
        const NgramEntry* low = find(k - 1, ngram_suffix(c[e].key, k - 1));
        if (!low) throw std::logic_error("n-gram counts are not suffix-closed");
        double pl = std::exp(low->log_prob);
        double p = std::max((double)c[e].count - D.of(c[e].count), 0.0) / S + gamma * pl;
        out[e].key = c[e].key;
        out[e].log_prob = std::log(p);
        seen += p;
        seen_lower += pl;
      }
      int64_t ctx = index_of(k - 1, h);
      if (ctx < 0) throw std::logic_error("n-gram counts are not prefix-closed");
      bool all_follow = j - i == (size_t)kPredictable;
      grams_[k - 1][ctx].log_backoff = std::log(all_follow ? gamma : (1 - seen) / (1 - seen_lower));
      i = j;
    }
  }
  compile();
}

NgramLM NgramLM::from_ngrams(int order, std::vector<std::vector<NgramEntry>> grams, NgramScorer scorer) {
  if (order < 1 || order > kMaxNgramOrder || (int)grams.size() != order + 1)
    throw std::invalid_argument("n-gram order " + std::to_string(order) + " is not in 1.." +
                                std::to_string(kMaxNgramOrder));
  NgramLM lm;
  lm.order_ = order;
  lm.scorer_ = scorer;
  lm.grams_ = std::move(grams);
  for (auto& g : lm.grams_)
    std::sort(g.begin(), g.end(), [](const NgramEntry& a, const NgramEntry& b) { return a.key < b.key; });
  lm.compile();
  return lm;
}

// The automaton (see ngram.h). States: 0 = the empty context, then every stored n-gram of orders
// 1..N-1 in key order (those ending in </s> are never reached). compile() checks that every unigram
// is stored and numbers the states; build_table() or build_links() (the Search scorer's index)
// then checks that every state's suffix is stored while it links each state to it.
void NgramLM::compile() {
  const int N = order_;
  offset_.clear();
  states_ = 0;
  arcs_.clear();
  arcs_.shrink_to_fit();
  std::vector<int64_t> offset(N + 1, 1);
  offset[0] = 0;
  for (int m = 2; m <= N; ++m) offset[m] = offset[m - 1] + (int64_t)grams_[m - 1].size();
  const int64_t states = N == 1 ? 1 : offset[N];
  const bool table = scorer_ == NgramScorer::Table ||
                     (scorer_ == NgramScorer::Automatic && states * kNumSymbols * (int64_t)sizeof(Arc) <= kNgramTableBudget);
  const int64_t most = table ? std::numeric_limits<int32_t>::max() / kNumSymbols : std::numeric_limits<int32_t>::max();
  if (states > most) throw std::invalid_argument("n-gram model too large");

  int32_t start = 0;  // reading <s> (only ever first) leads to the start state
  if (N > 1) {
    const NgramEntry* bos = find(1, kBos);
    if (!bos) throw std::invalid_argument("the model has no unigram <s>");
    start = (int32_t)(offset[1] + (bos - grams_[1].data()));
  }
  for (int w = 1; w < kNumSymbols; ++w)
    if (!find(1, (uint64_t)w)) throw std::invalid_argument("the model has no unigram '" + symbol_names()[w] + "'");
  offset_ = std::move(offset);
  states_ = states;
  start_ = start;
  link_.clear(), child_.clear();
  try {
    if (table) build_table();
    else build_links();
  } catch (...) {
    offset_.clear(), states_ = 0, link_.clear(), child_.clear();
    throw;
  }
}

namespace {
std::invalid_argument no_suffix(uint64_t key, int m) {
  return std::invalid_argument("the model has '" + to_text(ngram_symbols(key, m)) + "' but not its suffix");
}
}  // namespace

void NgramLM::set_scorer(NgramScorer scorer) {
  scorer_ = scorer;
  if (!offset_.empty()) compile();
}

// The table, row by row. For state h and symbol w:
//   ln p(w|h) = ln P(hw)                   if hw is stored
//             = ln alpha(h) + ln p(w|h')   else
//   next(h,w) = hw                         if hw is stored and shorter than N
//             = next(h', w)                else
// h' (h without its first symbol) is a state of the order below, so filling the orders upwards
// finds its row complete.
void NgramLM::build_table() {
  const int N = order_;
  const std::vector<int64_t>& offset = offset_;
  const float never = -std::numeric_limits<float>::infinity();
  std::vector<Arc> arcs((size_t)states_ * kNumSymbols, Arc{never, 0});

  // Reading <s> (only ever first) leads to the start state; </s> ends the segment (state 0).
  for (int w = 1; w < kNumSymbols; ++w) {
    const NgramEntry* e = find(1, (uint64_t)w);
    arcs[w] = {(float)e->log_prob, N > 1 && w != kEos ? (int32_t)(offset[1] + (e - grams_[1].data())) : 0};
  }
  arcs[kBos].next = start_;

  for (int m = 1; m < N; ++m) {
    const std::vector<NgramEntry>& level = grams_[m];
    const std::vector<NgramEntry>& children = grams_[m + 1];
    size_t c = 0;
    for (size_t i = 0; i < level.size(); ++i) {
      const int64_t s = offset[m] + (int64_t)i;
      const uint64_t h = level[i].key;
      Arc* row = &arcs[(size_t)s * kNumSymbols];
      row[kBos] = {never, start_};
      if (ngram_last(h) == kEos) continue;  // a context ending in </s> is never reached
      int64_t link = 0;
      if (m > 1) {
        const NgramEntry* lo = find(m - 1, ngram_suffix(h, m - 1));
        if (!lo) throw no_suffix(h, m);
        link = offset[m - 1] + (lo - grams_[m - 1].data());
      }
      const Arc* lrow = &arcs[(size_t)link * kNumSymbols];
      for (int w = 1; w < kNumSymbols; ++w) row[w] = {(float)(level[i].log_backoff + lrow[w].log_prob), lrow[w].next};
      while (c < children.size() && ngram_context(children[c].key) < h) ++c;
      for (; c < children.size() && ngram_context(children[c].key) == h; ++c) {
        int w = ngram_last(children[c].key);
        row[w].log_prob = (float)children[c].log_prob;
        if (m + 1 < N && w != kEos) row[w].next = (int32_t)(offset[m + 1] + (int64_t)c);
      }
    }
  }
  arcs_ = std::move(arcs);
}

void NgramLM::require_compiled() const {
  if (offset_.empty()) throw std::logic_error("the n-gram model is empty: train or read one first");
}

int NgramLM::level_of(int32_t state) const {
  int m = 0;
  while (m + 1 < order_ && state >= offset_[m + 1]) ++m;
  return m;
}

// The Search scorer's index: per state, its suffix link (the index of h' in the order below) and
// the start of its run of continuations hw in the order above (the run ends where the next state's
// begins). 8 bytes a state, against the table's 272.
void NgramLM::build_links() {
  const int N = order_;
  link_.assign(N, {});
  child_.assign(N, {});
  child_[0] = {0, (uint32_t)grams_[1].size()};  // the empty context: every unigram
  for (int m = 1; m < N; ++m) {
    const std::vector<NgramEntry>& level = grams_[m];
    const std::vector<NgramEntry>& children = grams_[m + 1];
    if (children.size() >= std::numeric_limits<uint32_t>::max()) throw std::invalid_argument("n-gram model too large");
    link_[m].resize(level.size());
    child_[m].resize(level.size() + 1);
    size_t c = 0;
    for (size_t i = 0; i < level.size(); ++i) {
      const int64_t link = m == 1 ? 0 : index_of(m - 1, ngram_suffix(level[i].key, m - 1));
      if (link < 0 && ngram_last(level[i].key) != kEos) throw no_suffix(level[i].key, m);
      link_[m][i] = (uint32_t)std::max<int64_t>(link, 0);  // a context ending in </s> is never followed
      while (c < children.size() && ngram_context(children[c].key) < level[i].key) ++c;
      child_[m][i] = (uint32_t)c;
    }
    child_[m][level.size()] = (uint32_t)children.size();
  }
}

// The stored continuation h_l w of the context at (order l, index i), or -1: a binary search of
// its run of at most 34 n-grams.
int64_t NgramLM::child_of(int l, uint32_t i, int w) const {
  const std::vector<NgramEntry>& g = grams_[l + 1];
  uint32_t lo = child_[l][i], hi = child_[l][i + 1];
  while (lo < hi) {
    uint32_t mid = (lo + hi) / 2;
    if (ngram_last(g[mid].key) < w) lo = mid + 1;
    else hi = mid;
  }
  return lo < child_[l][i + 1] && ngram_last(g[lo].key) == w ? (int64_t)lo : -1;
}

// One arc by the Search scorer, the table's recursion unrolled. With h_l the last l symbols of the
// state's context h (of order m; h_{l-1} is h_l's suffix link), and j the largest l with h_l w
// stored (l = 0 always is):
//   ln p(w|h) = fold over l = j+1 .. m of x <- (float)(ln alpha(h_l) + x), from x = (float) ln P(h_j w)
//   next      = h_l w for the largest l <= min(m, N-2) with h_l w stored; the empty state for </s>
// (the same float operations, in the same order, as build_table()).
float NgramLM::search_step(int32_t state, int w, int32_t& next) const {
  const float never = -std::numeric_limits<float>::infinity();
  next = 0;
  if (w == kBos) {
    next = start_;
    return never;
  }
  if (w < 0 || w >= kNumSymbols) throw std::invalid_argument("cannot read symbol id " + std::to_string(w));
  const int m = level_of(state);
  uint32_t at[kMaxNgramOrder];  // at[l]: the index of h_l in grams_[l], found by following links down from h
  at[m] = m > 0 ? (uint32_t)(state - offset_[m]) : 0;
  if (m > 0 && ngram_last(grams_[m][at[m]].key) == kEos) return never;
  int j = m;
  int64_t c = child_of(j, at[j], w);
  while (c < 0 && j > 0) {
    at[j - 1] = link_[j][at[j]];
    --j;
    c = child_of(j, at[j], w);
  }
  if (c < 0) return never;  // not reached: compile() checked the unigrams
  float x = (float)grams_[j + 1][c].log_prob;
  for (int l = j + 1; l <= m; ++l) x = (float)(grams_[l][at[l]].log_backoff + x);
  if (w == kEos) return x;
  if (j > order_ - 2) {  // h w is stored but has N symbols: the next state is a shorter suffix
    c = -1;
    for (j = order_ - 2; j >= 0 && c < 0; --j) {
      at[j] = link_[j + 1][at[j + 1]];
      c = child_of(j, at[j], w);
    }
    ++j;
  }
  if (c >= 0) next = (int32_t)(offset_[j + 1] + c);
  return x;
}

// All 34 log-probabilities of a state by the Search scorer, built up the orders as build_table()
// builds a row: the unigrams, then per order l = 1..m back off from the row below and put in h_l's
// stored continuations.
void NgramLM::search_row(int32_t state, float* lp) const {
  const float never = -std::numeric_limits<float>::infinity();
  const int m = level_of(state);
  uint32_t at[kMaxNgramOrder];
  at[m] = m > 0 ? (uint32_t)(state - offset_[m]) : 0;
  for (int w = 0; w < kNumSymbols; ++w) lp[w] = never;
  if (m > 0 && ngram_last(grams_[m][at[m]].key) == kEos) return;  // a context ending in </s>
  for (int l = m; l > 0; --l) at[l - 1] = link_[l][at[l]];
  for (const NgramEntry& e : grams_[1])
    if (e.key != (uint64_t)kBos) lp[e.key] = (float)e.log_prob;
  for (int l = 1; l <= m; ++l) {
    const NgramEntry& c = grams_[l][at[l]];
    for (int w = 1; w < kNumSymbols; ++w) lp[w] = (float)(c.log_backoff + lp[w]);
    for (uint32_t e = child_[l][at[l]]; e < child_[l][at[l] + 1]; ++e)
      lp[ngram_last(grams_[l + 1][e].key)] = (float)grams_[l + 1][e].log_prob;
  }
}

double NgramLM::log_prob(const std::vector<uint8_t>& context, int symbol) const {
  require_compiled();
  if (symbol < 1 || symbol >= kNumSymbols) throw std::invalid_argument("cannot predict symbol id " + std::to_string(symbol));
  for (size_t i = 0; i < context.size(); ++i)
    if (context[i] >= kNumSymbols || context[i] == kEos || (context[i] == kBos && i > 0))
      throw std::invalid_argument("bad context symbol id " + std::to_string(context[i]) + " at " + std::to_string(i));
  const int L = std::min<int>(order_ - 1, (int)context.size());
  const uint8_t* end = context.data() + context.size();
  double backoff = 0;
  for (int m = L; m >= 0; --m) {
    const uint64_t h = ngram_key(end - m, m);
    if (const NgramEntry* e = find(m + 1, h << 6 | (uint64_t)symbol)) return backoff + e->log_prob;
    if (m > 0)
      if (const NgramEntry* c = find(m, h)) backoff += c->log_backoff;
  }
  throw std::logic_error("no unigram for symbol " + std::to_string(symbol));
}

// Each step is two reads of one table row, and the next row depends on them: on a large model
// that row is a cache miss. So kWalkers walkers score contiguous slices of the list side by side,
// a symbol each in turn; their reads are independent, and the processor overlaps their misses.
NgramScore NgramLM::score(const std::vector<Segment>& segs) const {
  constexpr int kWalkers = 8;
  require_compiled();
  struct Walker {
    size_t seg, end, pos = 0;  // its slice [seg, end) of the list, and where it is
    int32_t state;
    double nats = 0;
  };
  const Arc* arcs = arcs_.data();
  std::vector<Walker> walkers;
  for (int i = 0; i < kWalkers; ++i)
    walkers.push_back({segs.size() * i / kWalkers, segs.size() * (i + 1) / kWalkers, 0, start_, 0.0});
  NgramScore r;
  for (const Segment& seg : segs) {
    for (uint8_t w : seg)
      if (w < 2 || w >= kNumSymbols) throw std::invalid_argument("segment holds symbol id " + std::to_string(w));
    r.targets += (int64_t)seg.size() + 1;
  }
  // The Search scorer, walkers likewise side by side: after each step a walker asks for its new
  // state's index entries, which arrive while the other walkers take their steps.
  for (bool busy = arcs_.empty(); busy;) {
    busy = false;
    for (Walker& k : walkers) {
      if (k.seg == k.end) continue;
      busy = true;
      const Segment& seg = segs[k.seg];
      if (k.pos < seg.size()) {
        k.nats -= search_step(k.state, seg[k.pos++], k.state);
      } else {
        k.nats -= search_step(k.state, kEos, k.state);
        k.seg++, k.pos = 0, k.state = start_;
      }
      const int m = level_of(k.state);
      if (m > 0) {
        const size_t i = (size_t)(k.state - offset_[m]);
        __builtin_prefetch(&child_[m][i]);
        __builtin_prefetch(&link_[m][i]);
        __builtin_prefetch(&grams_[m][i]);
      }
    }
  }
  for (bool busy = !arcs_.empty(); busy;) {
    busy = false;
    for (Walker& k : walkers) {
      if (k.seg == k.end) continue;
      busy = true;
      const Segment& seg = segs[k.seg];
      if (k.pos < seg.size()) {  // predict c_pos, then move to the context that includes it
        const Arc& a = arcs[(size_t)k.state * kNumSymbols + seg[k.pos++]];
        k.nats -= a.log_prob;
        k.state = a.next;
      } else {  // predict </s>, then start the next segment
        k.nats -= arcs[(size_t)k.state * kNumSymbols + kEos].log_prob;
        k.seg++, k.pos = 0, k.state = start_;
      }
    }
  }
  for (const Walker& k : walkers) r.nats += k.nats;
  return r;
}

NgramContext NgramLM::context(int32_t state) const {
  require_compiled();
  if (state < 0 || state >= states_) throw std::out_of_range("no n-gram state " + std::to_string(state));
  NgramContext c;
  c.length = level_of(state);
  c.symbols = ngram_symbols(c.length ? grams_[c.length][state - offset_[c.length]].key : 0, c.length);
  return c;
}

NgramContext NgramLM::context_of(const std::vector<uint8_t>& history) const {
  require_compiled();
  int32_t s = 0;
  for (size_t i = 0; i < history.size(); ++i) {
    uint8_t w = history[i];
    if (w >= kNumSymbols || w == kEos || (w == kBos && i > 0))
      throw std::invalid_argument("bad history symbol id " + std::to_string(w) + " at " + std::to_string(i));
    s = next_state(s, w);
  }
  return context(s);
}

void NgramLM::score(const Batch& batch, TargetScores& out) const {
  // Each sequence walks the automaton from <s>; rows are visited in the batch's order (t*B + b),
  // so two language models scoring the same batch line their targets up.
  require_compiled();
  std::vector<int32_t> state(batch.B, start_);
  float row[kNumSymbols];
  for (int t = 0; t < batch.T; ++t)
    for (int b = 0; b < batch.B; ++b) {
      size_t r = (size_t)t * batch.B + b;
      if (batch.mask[r] == 0.0f) continue;
      const int32_t s = state[b];
      if (arcs_.empty()) search_row(s, row);
      else
        for (int w = 0; w < kNumSymbols; ++w) row[w] = arcs_[(size_t)s * kNumSymbols + w].log_prob;
      int best = 1;  // the most likely symbol, the first of equals (<s> is never predicted)
      for (int w = 2; w < kNumSymbols; ++w)
        if (row[w] > row[best]) best = w;
      const int target = batch.targets[r];
      out.target.push_back(target);
      out.logp.push_back(row[target]);
      out.argmax.push_back(best);
      state[b] = next_state(s, target);
    }
}

}  // namespace memsig
