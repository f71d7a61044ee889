// The n-gram LM against hand-computed probabilities, its normalisation, ARPA files and their
// rejections, the probe's context state, and the perfect-memory reference on a known answer.
#include <catch2/catch.hpp>

#include <cmath>
#include <cstdio>
#include <fstream>
#include <sstream>

#include "engine/files.h"
#include "engine/rng.h"
#include "models/arpa.h"
#include "probe/perfect_memory.h"
#include "temp_files.h"

using namespace memsig;
using memsig::test::temp_path;

namespace {

const uint8_t S = kBos, E = kEos, A = 3, B = 4, C = 5;

std::vector<Segment> segments(const std::vector<std::string>& lines) {
  std::vector<Segment> out;
  for (auto& l : lines) out.push_back(normalize(l));
  return out;
}

double p(const NgramLM& lm, const std::vector<uint8_t>& context, int w) { return std::exp(lm.log_prob(context, w)); }

// Sentences of random words over a small vocabulary: text with structure at every order.
std::vector<Segment> word_text(int n, uint64_t seed) {
  static const char* words[] = {"the", "cat", "sat", "on", "a", "mat", "and", "then", "it", "ran", "off", "to",
                                "see", "its", "friend", "who's", "#", "dogs", "barked,", "at", "night."};
  Rng rng(seed);
  std::vector<Segment> out;
  for (int i = 0; i < n; ++i) {
    std::string line;
    int len = 2 + (int)rng.below(8);
    for (int j = 0; j < len; ++j) line += std::string(j ? " " : "") + words[rng.below(21)];
    out.push_back(normalize(line));
  }
  return out;
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  std::stringstream ss(text);
  std::string l;
  while (std::getline(ss, l)) out.push_back(l);
  return out;
}
std::string joined(const std::vector<std::string>& lines) {
  std::string t;
  for (auto& l : lines) t += l + "\n";
  return t;
}
int index_of(const std::vector<std::string>& lines, const std::string& line) {
  for (size_t i = 0; i < lines.size(); ++i)
    if (lines[i] == line) return (int)i;
  FAIL("no line " << line);
  return -1;
}
std::string read_error(const std::string& path) {
  try {
    read_arpa(path);
  } catch (const FileError& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST_CASE("modified Kneser-Ney discounts from count-of-counts, and the fallback", "[ngram]") {
  // Y = 10/20 = 0.5; D1 = 1 - 2(.5)(5/10) = .5; D2 = 2 - 3(.5)(3/5) = 1.1; D3+ = 3 - 4(.5)(2/3) = 5/3
  NgramDiscounts d = kn_discounts(10, 5, 3, 2);
  REQUIRE(d.fallback.empty());
  REQUIRE(d.d1 == Approx(0.5).epsilon(1e-12));
  REQUIRE(d.d2 == Approx(1.1).epsilon(1e-12));
  REQUIRE(d.d3 == Approx(5.0 / 3).epsilon(1e-12));
  REQUIRE(d.of(1) == d.d1);
  REQUIRE(d.of(2) == d.d2);
  REQUIRE(d.of(7) == d.d3);
  // n3 = 0: one discount Y = n1/(n1 + 2 n2) = 10/20
  d = kn_discounts(10, 5, 0, 2);
  REQUIRE(d.d1 == 0.5);
  REQUIRE(d.d3 == 0.5);
  REQUIRE(d.fallback.find("n3 = 0") != std::string::npos);
  // D2 = 2 - 3 (10/12) (10/1) < 0: out of range, Y = 10/12
  d = kn_discounts(10, 1, 10, 1);
  REQUIRE(d.d2 == Approx(10.0 / 12));
  REQUIRE(d.fallback.find("not all in") != std::string::npos);
  // nothing to estimate from: 0.5
  d = kn_discounts(0, 0, 0, 0);
  REQUIRE(d.d1 == 0.5);
  REQUIRE(!d.fallback.empty());
}

TEST_CASE("a hand-computed 3-gram model gives exactly the expected probabilities", "[ngram]") {
  // Training text "aab", "ab": read as <s> a a b </s> and <s> a b </s>.
  // Order 3, raw counts:   <s>aa 1, aab 1, ab</s> 2, <s>ab 1          n1 = 3, n2 = 1: D = 3/5
  // Order 2, adjusted:     <s>a 2 (raw: starts with <s>), aa 1 (left: <s>), ab 2 (a, <s>), b</s> 1 (a)
  //                        n1 = 2, n2 = 2, n3 = 0: D = 2/6
  // Order 1, continuation: a 2 (<s>, a), b 1 (a), </s> 1 (b)           n1 = 2, n2 = 1: D = 2/4
  NgramLM lm;
  lm.train(segments({"aab", "ab"}), 3);
  REQUIRE(lm.order() == 3);
  REQUIRE(lm.ngrams(1).size() == 34);
  REQUIRE(lm.ngrams(2).size() == 4);
  REQUIRE(lm.ngrams(3).size() == 4);
  REQUIRE(lm.discounts()[3].d1 == Approx(0.6).epsilon(1e-15));
  REQUIRE(lm.discounts()[2].d1 == Approx(1.0 / 3).epsilon(1e-15));
  REQUIRE(lm.discounts()[1].d1 == Approx(0.5).epsilon(1e-15));
  for (int k = 1; k <= 3; ++k) REQUIRE(!lm.discounts()[k].fallback.empty());

  // Unigrams: S = 4, gamma = 3 x 0.5 / 4 = 0.375, spread over 33 symbols.
  const double u = 0.375 / 33;
  const double p1a = (2 - 0.5) / 4 + u, p1b = (1 - 0.5) / 4 + u, p1e = p1b;
  // Bigrams: context <s>: S = 2, gamma = (1/3)/2;  a: S = 3, gamma = (2/3)/3;  b: S = 1, gamma = 1/3.
  const double g_s = 1.0 / 6, g_a = 2.0 / 9, g_b = 1.0 / 3;
  const double p2a_s = (2 - 1.0 / 3) / 2 + g_s * p1a;
  const double p2a_a = (1 - 1.0 / 3) / 3 + g_a * p1a, p2b_a = (2 - 1.0 / 3) / 3 + g_a * p1b;
  const double p2e_b = (1 - 1.0 / 3) / 1 + g_b * p1e;
  // Trigrams: context <s>a: S = 2, gamma = 1.2/2;  aa: S = 1, gamma = 0.6;  ab: S = 2, gamma = 0.6/2.
  const double g_sa = 0.6, g_aa = 0.6;
  const double p3a_sa = (1 - 0.6) / 2 + g_sa * p2a_a, p3b_sa = (1 - 0.6) / 2 + g_sa * p2b_a;
  const double p3b_aa = (1 - 0.6) / 1 + g_aa * p2b_a;
  const double p3e_ab = (2 - 0.6) / 2 + 0.3 * p2e_b;

  const double eps = 1e-12;
  REQUIRE(p(lm, {}, C) == Approx(u).epsilon(eps));
  REQUIRE(p(lm, {}, A) == Approx(p1a).epsilon(eps));
  REQUIRE(p(lm, {S}, A) == Approx(p2a_s).epsilon(eps));
  REQUIRE(p(lm, {S, A}, A) == Approx(p3a_sa).epsilon(eps));
  REQUIRE(p(lm, {S, A}, B) == Approx(p3b_sa).epsilon(eps));
  REQUIRE(p(lm, {S, A, A}, B) == Approx(p3b_aa).epsilon(eps));
  REQUIRE(p(lm, {S, A, B}, E) == Approx(p3e_ab).epsilon(eps));
  // Unseen continuations back off with alpha(h) = gamma(h):
  REQUIRE(p(lm, {S, A}, C) == Approx(g_sa * g_a * u).epsilon(eps));   // <s>a -> a -> unigram
  REQUIRE(p(lm, {A, A}, E) == Approx(g_aa * g_a * p1e).epsilon(eps));  // aa -> a -> unigram
  REQUIRE(p(lm, {B, B}, A) == Approx(g_b * p1a).epsilon(eps));         // bb not stored; b -> unigram
  REQUIRE(p(lm, {S}, B) == Approx(g_s * p1b).epsilon(eps));
  // The stored back-off weights are these gammas.
  REQUIRE(std::exp(lm.ngrams(2)[0].log_backoff) > 0);
  REQUIRE(std::exp(lm.ngrams(1)[A].log_backoff) == Approx(g_a).epsilon(eps));
  REQUIRE(std::exp(lm.ngrams(1)[S].log_backoff) == Approx(g_s).epsilon(eps));

  // Scoring "aab": a|<s>, a|<s>a, b|aa, </s>|ab.
  NgramScore s = lm.score(segments({"aab"}));
  REQUIRE(s.targets == 4);
  REQUIRE(s.nats == Approx(-std::log(p2a_s * p3a_sa * p3b_aa * p3e_ab)).epsilon(1e-6));
}

TEST_CASE("every context's distribution sums to one over the 33 predictable symbols, at every order", "[ngram]") {
  std::vector<Segment> train = word_text(3000, 1), test = word_text(200, 2);
  for (int order : {1, 2, 3, 5, 7}) {
    NgramLM lm;
    lm.train(train, order);
    if (order == 5) REQUIRE(lm.discounts()[5].fallback.empty());  // enough data for three discounts
    std::vector<std::vector<uint8_t>> contexts = {{}, {S}, {S, A}, {A, A, A, A, A, A}, {C, C, C, C}};
    for (const Segment& seg : std::vector<Segment>(test.begin(), test.begin() + 20))
      for (size_t t = 0; t <= seg.size(); t += 3) {
        std::vector<uint8_t> h{S};
        h.insert(h.end(), seg.begin(), seg.begin() + t);
        contexts.push_back(h);
        contexts.emplace_back(h.begin() + 1, h.end());  // the same without the segment start
      }
    for (auto& h : contexts) {
      double sum = 0;
      for (int w = 1; w < kNumSymbols; ++w) sum += p(lm, h, w);
      INFO("order " << order << ", context of " << h.size() << " symbols");
      REQUIRE(sum == Approx(1.0).epsilon(1e-10));
    }
    // The automaton scores what the back-off rule gives.
    double nats = 0;
    int64_t targets = 0;
    for (const Segment& seg : test) {
      std::vector<uint8_t> h{S};
      for (size_t t = 0; t <= seg.size(); ++t, ++targets) {
        int w = t < seg.size() ? seg[t] : E;
        nats -= lm.log_prob(h, w);
        h.push_back((uint8_t)w);
      }
    }
    NgramScore s = lm.score(test);
    REQUIRE(s.targets == targets);
    REQUIRE(s.nats == Approx(nats).epsilon(1e-6));
  }
}

TEST_CASE("an ARPA file read back gives the same model and the same bpc", "[ngram]") {
  std::vector<Segment> train = word_text(2000, 3), test = word_text(300, 4);
  NgramLM lm;
  lm.train(train, 5);
  std::string path = temp_path("lm.arpa");
  write_arpa(path, lm);
  NgramLM back = read_arpa(path);
  REQUIRE(back.order() == 5);
  for (int k = 1; k <= 5; ++k) {
    REQUIRE(back.ngrams(k).size() == lm.ngrams(k).size());
    for (size_t i = 0; i < lm.ngrams(k).size(); ++i) {
      REQUIRE(back.ngrams(k)[i].key == lm.ngrams(k)[i].key);
      REQUIRE(back.ngrams(k)[i].log_prob == Approx(lm.ngrams(k)[i].log_prob).epsilon(1e-9));
      REQUIRE(back.ngrams(k)[i].log_backoff == Approx(lm.ngrams(k)[i].log_backoff).epsilon(1e-9));
    }
  }
  REQUIRE(back.score(test).bpc() == Approx(lm.score(test).bpc()).margin(1e-6));
  REQUIRE(back.num_states() == lm.num_states());
  // The symbols as other toolkits read them: space as _, the markers as they are.
  std::string text = read_file(path);
  REQUIRE(text.rfind("\\data\\\nngram 1=34\n", 0) == 0);
  REQUIRE(text.find("\t_\t") != std::string::npos);
  REQUIRE(text.find("\t<s> t\t") != std::string::npos);
  REQUIRE(text.find(" </s>\n") != std::string::npos);
  std::remove(path.c_str());
}

TEST_CASE("malformed ARPA files give one-line errors naming the line", "[ngram]") {
  NgramLM lm;
  lm.train(segments({"aab", "ab"}), 3);
  std::string path = temp_path("bad.arpa");
  write_arpa(path, lm);
  const std::vector<std::string> good = lines_of(read_file(path));
  const int l2 = index_of(good, "\\2-grams:"), l3 = index_of(good, "\\3-grams:"), lend = index_of(good, "\\end\\");
  auto expect = [&](std::vector<std::string> lines, int line, const std::string& problem) {
    write_text_atomically(path, joined(lines));
    std::string e = read_error(path);
    INFO(e);
    REQUIRE(e.find(path + ": line " + std::to_string(line) + ": ") == 0);
    REQUIRE(e.find(problem) != std::string::npos);
    REQUIRE(e.find('\n') == std::string::npos);
  };
  auto with = [&](int i, const std::string& line) {
    auto l = good;
    l[i] = line;
    return l;
  };
  auto first = [&](int n) { return std::vector<std::string>(good.begin(), good.begin() + n); };
  std::string two_gram = good[l2 + 1];  // "log10p <s> a log10alpha"
  std::string prob = two_gram.substr(0, two_gram.find('\t'));

  REQUIRE(read_error(path).empty());
  expect(std::vector<std::string>(good.begin() + 1, good.end()), (int)good.size() - 1, "no \\data\\");
  expect(with(2, "ngram 2=5"), l3, "\\2-grams: has 4 n-grams, \\data\\ declares 5");  // l3 (0-based) = the blank line
  expect(with(2, "ngram 2=3"), l2 + 5, "more than the 3 n-grams");
  expect(with(2, "ngram two=4"), 3, "expected 'ngram k=count'");
  expect(with(l2 + 1, "abc" + two_gram.substr(prob.size())), l2 + 2, "'abc' is not a number");
  expect(with(l2 + 1, prob + "\t<s> Q"), l2 + 2, "unknown symbol 'Q'");
  expect(with(l2 + 1, prob + "\t<s>"), l2 + 2, "found 2 fields");
  expect(with(l2 + 1, prob + "\ta <s>"), l2 + 2, "<s> inside");
  expect(with(l2, "\\two-grams:"), l2 + 1, "expected \\2-grams:");
  expect(first(l3 + 2), l3 + 2, "file ends in \\3-grams: after 1 of 4");
  expect(first(l2 - 1), l2 - 1, "file ends before \\2-grams:");
  expect(first(lend), lend, "file ends before \\end\\");
  expect(with(lend, "\\ending\\"), lend + 1, "expected \\end\\");
  // A duplicate, a 3-gram without its context, a unigram missing.
  expect(with(l2 + 2, good[l2 + 1]), l2 + 3, "duplicate 2-gram '<s> a'");
  expect(with(l3 + 1, prob + "\tb b a"), l3 + 2, "has no 2-gram for its context 'b b'");
  const int l1 = index_of(good, "\\1-grams:");  // unigrams follow in id order: <s> </s> <unk> a b c ...
  expect(with(l1 + 1 + A, prob + "\tb"), l1 + 1 + B + 1, "duplicate 1-gram 'b' (first on line " + std::to_string(l1 + 1 + A + 1) + ")");
  auto no_c = with(1, "ngram 1=33");
  no_c.erase(no_c.begin() + l1 + 1 + C);
  expect(no_c, l1 + 1, "no unigram 'c'");
  write_text_atomically(path, "");
  REQUIRE(read_error(path).find(": line 1: no \\data\\") != std::string::npos);
  std::remove(path.c_str());
  REQUIRE(read_error(path).find("cannot open") != std::string::npos);
}

TEST_CASE("the probe state is the longest suffix of the history that the model stores", "[ngram]") {
  NgramLM lm;
  lm.train(segments({"aab", "ab"}), 3);
  auto ctx = [&](const std::vector<uint8_t>& h) { return lm.context_of(h).symbols; };
  using V = std::vector<uint8_t>;
  REQUIRE(lm.context(lm.start_state()).symbols == V{S});
  REQUIRE(ctx({S}) == V{S});
  REQUIRE(ctx({S, A}) == V{S, A});
  REQUIRE(ctx({S, A, A}) == V{A, A});
  REQUIRE(ctx({S, A, A, B}) == V{A, B});  // at most N-1 = 2 symbols
  REQUIRE(ctx({S, B, A}) == V{A});        // "b a" was never seen
  REQUIRE(ctx({S, C}) == V{C});           // every unigram is stored
  REQUIRE(ctx({}) == V{});
  REQUIRE(lm.context_of({S, A, A}).length == 2);

  // Against a brute-force search of the stored n-grams, on a 5-gram model.
  NgramLM big;
  big.train(word_text(1000, 5), 5);
  auto stored = [&](const uint8_t* w, int k) {
    const auto& g = big.ngrams(k);
    uint64_t key = ngram_key(w, k);
    return std::binary_search(g.begin(), g.end(), NgramEntry{key, 0, 0},
                              [](const NgramEntry& a, const NgramEntry& b) { return a.key < b.key; });
  };
  int checked = 0, shorter = 0;
  std::vector<Segment> texts = word_text(100, 6);
  Rng rng(6);
  for (int i = 0; i < 20; ++i) {  // and random letters, whose contexts were mostly never seen
    texts.emplace_back();
    for (int t = 0; t < 30; ++t) texts.back().push_back((uint8_t)(A + rng.below(26)));
  }
  for (const Segment& seg : texts) {
    std::vector<uint8_t> h{S};
    int32_t state = big.start_state();
    for (size_t t = 0; t < seg.size(); ++t) {
      h.push_back(seg[t]);
      state = big.next_state(state, seg[t]);
      int L = std::min<int>(4, (int)h.size());
      while (L > 0 && !stored(h.data() + h.size() - L, L)) --L;
      NgramContext c = big.context_of(h);
      REQUIRE(c.length == L);
      REQUIRE(c.symbols == std::vector<uint8_t>(h.end() - L, h.end()));
      REQUIRE(big.context(state).symbols == c.symbols);  // stepping the automaton: the same state
      ++checked;
      shorter += L < std::min<int>(4, (int)h.size());
    }
  }
  REQUIRE(checked > 1000);
  REQUIRE(shorter > 0);  // unseen contexts were met and shortened
}

TEST_CASE("perfect memory of the last k inputs on i.i.d. symbols: x_{t-d} known iff d < k", "[ngram][probe]") {
  // Four letters, i.i.d.: every window of up to 4 of them occurs in training.
  Rng rng(7);
  auto make = [&](int n) {
    std::vector<Segment> out(n);
    for (auto& s : out)
      for (int t = 0; t < 40; ++t) s.push_back((uint8_t)(A + rng.below(4)));
    return out;
  };
  std::vector<Segment> train = make(1500), test = make(300);
  const int K = 4, D = 6;
  PerfectMemory pm = perfect_memory(train, test, K, D);
  REQUIRE(pm.accuracy.size() == K + 1);
  for (int d = 1; d <= D; ++d) {
    REQUIRE(pm.count[d] == 300 * (40 - d));  // t = 2..40, t - d >= 1
    REQUIRE(std::abs(pm.accuracy[0][d] - 0.25) < 0.03);
    for (int k = 1; k <= K; ++k) {
      INFO("k " << k << " d " << d << " accuracy " << pm.accuracy[k][d]);
      if (d < k) REQUIRE(pm.accuracy[k][d] == 1.0);
      else REQUIRE(std::abs(pm.accuracy[k][d] - 0.25) < 0.03);
    }
  }
  // The smallest k that matches a model's recall at each lag.
  std::vector<int> k = memory_equivalent_k(pm, {0.99, 0.99, 0.5, 0.2, 1.01});
  REQUIRE(k == std::vector<int>{2, 3, 4, 1, 0});
  REQUIRE_THROWS(memory_equivalent_k(pm, std::vector<double>(D + 1, 0.5)));
}
