// ngram.h — a character n-gram language model with interpolated modified Kneser-Ney smoothing
// (Chen & Goodman 1998), held in ARPA form and scored as an automaton: a dense table for fast
// scoring, or a search of the n-gram arrays when the table would be large (see below).
//
// Protocol (the same as the char LMs'): a segment c1..cn is read as <s> c1 .. cn and the model
// predicts c1 .. cn </s>; <s> is never predicted, so a distribution covers the 33 symbols 1..33.
//
// Counts. Every target position j of <s> c1..cn </s> has a "window": the N symbols ending at j, or
// all symbols from <s> when fewer precede it. Order-N n-grams keep raw counts c(.). A lower-order
// n-gram g gets the KN adjusted count a(g) = N1+(. g), the number of distinct symbols seen just
// before g (its continuation count); an n-gram starting with <s> cannot be extended to the left,
// so it keeps its raw count, as in KenLM.
//
// Discounts, per order k, from the count-of-counts n_r = #{order-k n-grams with a = r}, r = 1..4:
//     Y = n1 / (n1 + 2 n2)
//     D1 = 1 - 2Y n2/n1      D2 = 2 - 3Y n3/n2      D3+ = 3 - 4Y n4/n3
// Fallback: the 34-symbol alphabet makes low orders dense (few n-grams seen once or twice), so
// these estimates can be undefined or out of range. When any of n1..n4 is 0 or any D is outside
// (0, c) (0 < D1 < 1, 0 < D2 < 2, 0 < D3+ < 3), that order uses one absolute discount for all
// counts: D = Y = n1/(n1 + 2 n2) when n1 > 0 and n2 > 0 (Ney's estimate, always in (0, 1)),
// else D = 0.5. NgramDiscounts::fallback then says which rule fired; `memsig ngram train` prints it.
//
// Probabilities, for the context h of order k-1, h' = h without its first symbol:
//     p_k(w|h) = max(a(hw) - D_k(a(hw)), 0) / S(h)  +  gamma(h) p_{k-1}(w|h')
//     S(h)     = sum_w a(hw)
//     gamma(h) = (D1 N1(h.) + D2 N2(h.) + D3+ N3+(h.)) / S(h)     N_r(h.) = #{w : a(hw) = r (>= 3)}
//     p_0(w)   = 1/33                                             (uniform over the predictable symbols)
// with a = raw counts at order N. A context never seen gives all its mass to the lower order.
//
// ARPA form. Each n-gram hw seen in training is stored with its final probability P(hw) = p_k(w|h)
// and each context h with a back-off weight alpha(h), so that
//     p(w|h) = P(hw) if hw is stored,  else alpha(h) p(w|h')     (alpha = 1 for h not stored).
// alpha is computed so each distribution sums to one exactly, in double:
//     alpha(h) = (1 - sum_{w: hw stored} P(hw)) / (1 - sum_{same w} p(w|h'))      (= gamma(h))
// When every predictable symbol follows h the weight is never used and gamma(h) is stored.
// Stored n-grams are closed under prefixes and suffixes (every occurrence of a stored n-gram not
// starting with <s> has a left neighbour), which the automaton below relies on.
//
// Scoring automaton. A state is a stored context (an n-gram of order < N, or the empty context);
// for every state h and symbol w the automaton gives ln p(w|h) and the next state: the longest
// suffix of hw, at most N-1 symbols, that is stored (built like Aho-Corasick's failure links:
// next(h, w) = hw if stored, else next(h', w)). That state is also what the model "remembers"
// (KenLM's State): see context(). ln p is a float (scores agree with log_prob() to ~1e-7), folded
// up the back-off chain one order at a time, rounding to float at each:
//     ln p(w|h) = (float) ln P(hw)                          if hw is stored
//               = (float) (ln alpha(h) + ln p(w|h'))        else
// Two scorers give the automaton, bit for bit the same (tests/test_ngram.cpp compares them):
//  * Table: every state's row of 34 arcs (ln p, next) precomputed, so a symbol costs two reads of
//    one row (~200M symbols/s on the PTB 5-gram). It costs 34 x 8 bytes per state: 10 MB for the
//    PTB 5-gram (36,552 states), 280 MB for its 8-gram, 950 MB for its 10-gram.
//  * Search: the rule above evaluated on the sorted per-order n-gram arrays: a state keeps its
//    suffix link and where its continuations start, and each order the back-off passes through
//    costs one binary search of at most 34 n-grams. 8 bytes per state beside the n-grams
//    themselves (24 bytes each).
// NgramScorer::Automatic (the default) takes the table when it fits in kNgramTableBudget.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "corpora/symbols.h"
#include "models/lm.h"

namespace memsig {

constexpr int kMaxNgramOrder = 10;       // 6 bits a symbol: an n-gram packs into a uint64
constexpr int kPredictable = kNumSymbols - 1;  // every symbol but <s>

enum class NgramScorer { Automatic, Table, Search };
constexpr int64_t kNgramTableBudget = int64_t(64) << 20;  // Automatic: the table when at most this many bytes

// An n-gram w1..wk packed as sum_i w_i << 6(k-i): the last symbol in the low 6 bits, so sorting
// keys of one order groups n-grams by context.
inline uint64_t ngram_key(const uint8_t* w, int k) {
  uint64_t key = 0;
  for (int i = 0; i < k; ++i) key = key << 6 | w[i];
  return key;
}
inline int ngram_last(uint64_t key) { return (int)(key & 63); }
inline uint64_t ngram_context(uint64_t key) { return key >> 6; }                       // w1..wk-1
inline uint64_t ngram_suffix(uint64_t key, int k) { return key & ((1ull << (6 * k)) - 1); }  // last k symbols
std::vector<uint8_t> ngram_symbols(uint64_t key, int k);

struct NgramEntry {
  uint64_t key = 0;          // w1..wk
  double log_prob = 0;       // ln P(wk | w1..wk-1), the final interpolated probability
  double log_backoff = 0;    // ln alpha(w1..wk) when backing off from this context; 0 = none (alpha = 1)
};

struct NgramDiscounts {
  int64_t n[5] = {0, 0, 0, 0, 0};  // n[1..4]: count-of-counts of the order's adjusted counts
  double d1 = 0, d2 = 0, d3 = 0;   // D1, D2, D3+
  std::string fallback;            // empty, or which single discount was used and why
  double of(int64_t count) const { return count <= 0 ? 0.0 : count == 1 ? d1 : count == 2 ? d2 : d3; }
};

// D1, D2, D3+ from the count-of-counts n1..n4 of one order, with the fallback described above.
NgramDiscounts kn_discounts(int64_t n1, int64_t n2, int64_t n3, int64_t n4);

struct NgramScore {
  double nats = 0;       // total -ln p over the targets
  int64_t targets = 0;   // sum (n + 1) over the segments
  double bpc() const;
  double perplexity() const;
};

// The context a model uses after reading a history: the longest suffix of it, at most N-1
// symbols, that the model stores (symbols oldest first; <s> may be the first).
struct NgramContext {
  int length = 0;
  std::vector<uint8_t> symbols;
};

class NgramLM : public LanguageModel {
 public:
  // Counts n-grams up to `order` (1..kMaxNgramOrder) in the segments and smooths them as above.
  // Throws std::invalid_argument for a bad order or a training set with no symbols.
  void train(const std::vector<Segment>& train, int order = 5);
  // A model from ARPA-form n-grams (grams[k] for k = 1..order, any order within a level); used by
  // the ARPA reader, which has already checked that the n-grams are closed under prefix and suffix.
  static NgramLM from_ngrams(int order, std::vector<std::vector<NgramEntry>> grams,
                             NgramScorer scorer = NgramScorer::Automatic);

  int order() const { return order_; }
  // The stored n-grams of order k (1..order), sorted by key.
  const std::vector<NgramEntry>& ngrams(int k) const { return grams_.at(k); }
  // Discounts per order (index 1..order) of a trained model; empty for a model read from ARPA.
  const std::vector<NgramDiscounts>& discounts() const { return discounts_; }

  // ln p(symbol | context) by the ARPA back-off rule, looked up n-gram by n-gram (the reference;
  // score() gives the same numbers from the automaton). `context` is the history, oldest first,
  // starting with <s> at a segment start; only its last N-1 symbols matter.
  double log_prob(const std::vector<uint8_t>& context, int symbol) const;

  // Total -ln p and target count over segments under the protocol, from the automaton.
  // Throws std::invalid_argument for a segment holding <s>, </s> or an id >= 34.
  NgramScore score(const std::vector<Segment>& segs) const;

  // LanguageModel: "5-gram"; per target of a batch, from the automaton.
  std::string describe() const override { return std::to_string(order_) + "-gram"; }
  void score(const Batch& batch, TargetScores& out) const override;

  // Which scorer serves the automaton (see above); set_scorer() switches (building or freeing the
  // table) and may be called on a trained or read model. has_table(): the table is in use.
  void set_scorer(NgramScorer scorer);
  NgramScorer scorer() const { return scorer_; }
  bool has_table() const { return !arcs_.empty(); }
  // Bytes the table takes (or would take) for this model: states x 34 x 8.
  int64_t table_bytes() const { return num_states() * kNumSymbols * (int64_t)sizeof(Arc); }

  // The automaton, for callers that walk text themselves (the probe). States are numbered 0 (the
  // empty context), then the stored n-grams of orders 1..N-1 in key order, by either scorer.
  int32_t start_state() const { return start_; }  // the context <s>
  int32_t next_state(int32_t state, int symbol) const {
    if (!arcs_.empty()) return arcs_[(size_t)state * kNumSymbols + symbol].next;
    int32_t next;
    search_step(state, symbol, next);
    return next;
  }
  float step_log_prob(int32_t state, int symbol) const {
    if (!arcs_.empty()) return arcs_[(size_t)state * kNumSymbols + symbol].log_prob;
    int32_t next;
    return search_step(state, symbol, next);
  }
  int64_t num_states() const { return states_; }
  NgramContext context(int32_t state) const;
  // The context used to predict the symbol after `history` (oldest first, <s> first at a segment
  // start): walks the automaton, so it is the longest stored suffix of at most N-1 symbols.
  NgramContext context_of(const std::vector<uint8_t>& history) const;

 private:
  struct Arc {
    float log_prob;  // ln p(w | state)
    int32_t next;    // the state after reading w
  };
  int order_ = 0;
  std::vector<std::vector<NgramEntry>> grams_;  // [k], k = 1..order; [0] empty
  std::vector<NgramDiscounts> discounts_;
  NgramScorer scorer_ = NgramScorer::Automatic;
  std::vector<int64_t> offset_;  // [m]: the first state of order m (offset_[order] = the state count); empty until compiled
  int64_t states_ = 0;
  int32_t start_ = 0;
  std::vector<Arc> arcs_;        // the table, [state * 34 + w]; empty under the Search scorer
  std::vector<std::vector<uint32_t>> link_;   // Search: [m][i] the index of grams_[m][i]'s suffix in grams_[m-1]
  std::vector<std::vector<uint32_t>> child_;  // Search: [m][i] its first continuation in grams_[m+1] ([m][size]: the end)

  int64_t index_of(int k, uint64_t key) const;        // position of the stored k-gram in grams_[k], or -1
  const NgramEntry* find(int k, uint64_t key) const;  // the stored k-gram, or null
  void require_compiled() const;
  void compile();                                      // checks the n-grams, numbers the states, builds the table if used
  void build_table();
  void build_links();
  int64_t child_of(int l, uint32_t i, int w) const;  // the index of h_l w in grams_[l+1], or -1
  int level_of(int32_t state) const;                  // the order m of a state's context (0 = empty)
  float search_step(int32_t state, int symbol, int32_t& next) const;  // one arc, by the Search scorer
  void search_row(int32_t state, float* log_probs) const;             // ln p of all 34 symbols, likewise
};

}  // namespace memsig
