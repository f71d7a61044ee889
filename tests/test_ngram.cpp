// The n-gram LM against hand-computed probabilities, its normalisation, ARPA files and their
// rejections, the probe's context state, and the perfect-memory reference on a known answer.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <map>
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
std::string parse_error(const std::string& text, const std::string& path) {
  try {
    parse_arpa(text, path);
  } catch (const FileError& e) {
    return e.what();
  }
  return "";
}

// Two models hold the same n-grams, bit for bit.
void require_same_ngrams(const NgramLM& a, const NgramLM& b) {
  REQUIRE(a.order() == b.order());
  for (int k = 1; k <= a.order(); ++k) {
    REQUIRE(a.ngrams(k).size() == b.ngrams(k).size());
    for (size_t i = 0; i < a.ngrams(k).size(); ++i) {
      REQUIRE(a.ngrams(k)[i].key == b.ngrams(k)[i].key);
      REQUIRE(a.ngrams(k)[i].log_prob == b.ngrams(k)[i].log_prob);
      REQUIRE(a.ngrams(k)[i].log_backoff == b.ngrams(k)[i].log_backoff);
    }
  }
}

// The perfect-memory reader as first written (one table of answers per k over every training
// window and lag, looked up per test position): the reference the streaming version must match.
PerfectMemory perfect_memory_reference(const std::vector<Segment>& train, const std::vector<Segment>& test, int K,
                                       int D) {
  struct Flat {
    std::vector<uint8_t> x;
    std::vector<int32_t> t;
    std::vector<size_t> positions;
  };
  auto flatten = [](const std::vector<Segment>& segs) {
    Flat f;
    for (const Segment& s : segs)
      for (size_t i = 0; i <= s.size(); ++i) {
        if (i >= 2) f.positions.push_back(f.x.size());
        f.x.push_back(i == 0 ? (uint8_t)kBos : s[i - 1]);
        f.t.push_back((int32_t)i);
      }
    return f;
  };
  auto target = [](const Flat& f, size_t p, int d) { return f.t[p] - d >= 1 ? (int)f.x[p - d] : -1; };
  auto window_key = [](const Flat& f, size_t p, int k) {
    int len = std::min(k, f.t[p] + 1);
    uint64_t key = 0;
    for (int i = len - 1; i >= 0; --i) key = key << 6 | (uint64_t)(f.x[p - i] + 1);
    return key;
  };
  const Flat tr = flatten(train), te = flatten(test);
  std::vector<int> chance(D + 1, 0);
  for (int d = 1; d <= D; ++d) {
    std::vector<int64_t> votes(kNumSymbols, 0);
    for (size_t p : tr.positions)
      if (int y = target(tr, p, d); y >= 0) votes[y]++;
    chance[d] = (int)(std::max_element(votes.begin(), votes.end()) - votes.begin());
  }
  std::vector<std::map<uint64_t, std::vector<int>>> readers(K + 1);  // window -> answer per lag
  for (int k = 1; k <= K; ++k) {
    std::map<uint64_t, std::vector<std::vector<int64_t>>> votes;
    for (size_t p : tr.positions) {
      auto& v = votes[window_key(tr, p, k)];
      if (v.empty()) v.assign(D + 1, std::vector<int64_t>(kNumSymbols, 0));
      for (int d = 1; d <= D; ++d)
        if (int y = target(tr, p, d); y >= 0) v[d][y]++;
    }
    for (auto& [w, v] : votes) {
      std::vector<int> a(D + 1, -1);
      for (int d = 1; d <= D; ++d)
        for (int y = 0; y < kNumSymbols; ++y)
          if (v[d][y] > 0 && (a[d] < 0 || v[d][y] > v[d][a[d]])) a[d] = y;
      readers[k][w] = a;
    }
  }
  PerfectMemory pm;
  pm.K = K, pm.D = D;
  pm.correct.assign(K + 1, std::vector<int64_t>(D + 1, 0));
  pm.count.assign(D + 1, 0);
  std::vector<int> answer(D + 1);
  for (size_t p : te.positions) {
    for (int d = 1; d <= D; ++d) {
      answer[d] = chance[d];
      if (int y = target(te, p, d); y >= 0) {
        pm.count[d]++;
        pm.correct[0][d] += answer[d] == y;
      }
    }
    for (int k = 1; k <= K; ++k) {
      auto it = readers[k].find(window_key(te, p, k));
      for (int d = 1; d <= D; ++d) {
        if (it != readers[k].end() && it->second[d] >= 0) answer[d] = it->second[d];
        if (int y = target(te, p, d); y >= 0) pm.correct[k][d] += answer[d] == y;
      }
    }
  }
  return pm;
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
    REQUIRE(parse_error(joined(lines), path) == e);  // the file streamed and the text in memory: the same message
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
  expect(with(l3 + 2, prob + "\t<s> a c"), l3 + 3, "has no 2-gram for its suffix 'a c'");
  {  // a duplicate far from its first occurrence, found by reading the section again
    auto l = with(l3 + 4, good[l3 + 1]);
    expect(l, l3 + 5, "duplicate 3-gram '" + good[l3 + 1].substr(good[l3 + 1].find('\t') + 1) + "' (first on line " +
                          std::to_string(l3 + 2) + ")");
  }
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

TEST_CASE("the table and the search scorer give the same automaton, bit for bit", "[ngram]") {
  std::vector<Segment> train = word_text(1500, 11), test = word_text(150, 12);
  Rng rng(13);
  for (int i = 0; i < 20; ++i) {  // random letters: contexts never seen, long back-off chains
    test.emplace_back();
    for (int t = 0; t < 25; ++t) test.back().push_back((uint8_t)(A + rng.below(26)));
  }
  std::vector<NgramLM> models;
  for (int order : {1, 2, 3, 5, 8}) {
    models.emplace_back();
    models.back().train(train, order);
  }
  std::string path = temp_path("scorers.arpa");
  write_arpa(path, models[3]);
  models.push_back(read_arpa(path));  // a model read back: its weights come from the file's digits
  std::remove(path.c_str());
  for (NgramLM& table : models) {
    INFO("order " << table.order());
    REQUIRE(table.table_bytes() <= kNgramTableBudget);
    REQUIRE(table.has_table());  // small models take the table by default
    NgramLM search = table;
    search.set_scorer(NgramScorer::Search);
    REQUIRE(!search.has_table());
    REQUIRE(search.num_states() == table.num_states());
    // Every arc of every state, <s> and </s> included.
    for (int32_t s = 0; s < table.num_states(); ++s) {
      REQUIRE(search.context(s).symbols == table.context(s).symbols);
      for (int w = 0; w < kNumSymbols; ++w) {
        REQUIRE(search.next_state(s, w) == table.next_state(s, w));
        const float a = table.step_log_prob(s, w), b = search.step_log_prob(s, w);
        REQUIRE(std::memcmp(&a, &b, sizeof a) == 0);
      }
    }
    // Whole texts: the same total, to the last bit, and the same per-target scores of a batch.
    NgramScore st = table.score(test), ss = search.score(test);
    REQUIRE(ss.targets == st.targets);
    REQUIRE(std::memcmp(&ss.nats, &st.nats, sizeof ss.nats) == 0);
    std::vector<int> idx;
    for (int i = 0; i < 40; ++i) idx.push_back(i * 4);
    Batch batch = make_batch(test, idx);
    TargetScores bt, bs;
    table.score(batch, bt);
    search.score(batch, bs);
    REQUIRE(bs.target == bt.target);
    REQUIRE(bs.argmax == bt.argmax);
    REQUIRE(bs.logp == bt.logp);
    // And back to the table.
    search.set_scorer(NgramScorer::Table);
    REQUIRE(search.has_table());
    REQUIRE(search.score(test).nats == st.nats);
  }
}

TEST_CASE("both scorers refuse a model whose context lacks its suffix", "[ngram]") {
  NgramLM lm;
  lm.train(segments({"abc", "abd"}), 4);
  // The 3-gram context "a b c" needs "b c"; drop "b c" (and keep everything else).
  std::vector<std::vector<NgramEntry>> grams(5);
  for (int k = 1; k <= 4; ++k) grams[k] = lm.ngrams(k);
  const uint64_t bc = (uint64_t)B << 6 | C;
  grams[2].erase(std::remove_if(grams[2].begin(), grams[2].end(), [&](const NgramEntry& e) { return e.key == bc; }),
                 grams[2].end());
  REQUIRE(grams[2].size() + 1 == lm.ngrams(2).size());
  for (NgramScorer scorer : {NgramScorer::Table, NgramScorer::Search}) {
    try {
      NgramLM::from_ngrams(4, grams, scorer);
      FAIL("accepted");
    } catch (const std::invalid_argument& e) {
      REQUIRE(std::string(e.what()) == "the model has 'abc' but not its suffix");
    }
  }
  REQUIRE(NgramLM::from_ngrams(4, {{}, lm.ngrams(1), lm.ngrams(2), lm.ngrams(3), lm.ngrams(4)}, NgramScorer::Search)
              .score(segments({"abd"})).nats == lm.score(segments({"abd"})).nats);
}

TEST_CASE("an ARPA file streamed from disk reads as the same text parsed in memory, CRLF or not", "[ngram]") {
  NgramLM lm;
  lm.train(word_text(800, 14), 4);
  std::string path = temp_path("stream.arpa");
  write_arpa(path, lm);
  const std::string text = read_file(path);
  NgramLM streamed = read_arpa(path), parsed = parse_arpa(text, path);
  require_same_ngrams(streamed, parsed);
  // Comment lines before \data\, Windows line ends and no final newline: the same model.
  std::string crlf = "written by hand\r\n";
  for (char c : text) crlf += c == '\n' ? std::string("\r\n") : std::string(1, c);
  crlf.resize(crlf.size() - 2);
  write_text_atomically(path, crlf);
  require_same_ngrams(read_arpa(path), streamed);
  require_same_ngrams(parse_arpa(crlf, path), streamed);
  std::remove(path.c_str());
}

TEST_CASE("perfect memory: the sorted, streaming count equals the per-window tables it replaced", "[ngram][probe]") {
  // Words (structure at every k, many ties), random letters (mostly unseen windows), segments
  // shorter than the windows, and an empty test segment.
  std::vector<Segment> train = word_text(600, 21), test = word_text(80, 22);
  Rng rng(23);
  for (int i = 0; i < 30; ++i) {
    for (std::vector<Segment>* split : {&train, &test}) {
      split->emplace_back((size_t)rng.below(30));
      for (uint8_t& w : split->back()) w = (uint8_t)(A + rng.below(6));
    }
  }
  train.push_back(normalize("a"));
  test.push_back(Segment{});
  for (auto [K, D] : {std::pair<int, int>{1, 1}, {3, 5}, {6, 12}, {10, 40}}) {
    INFO("K " << K << " D " << D);
    PerfectMemory ref = perfect_memory_reference(train, test, K, D);
    for (int block : {0, 1, 7}) {  // lags in one pass, one at a time, in blocks of 7
      PerfectMemory pm = perfect_memory(train, test, K, D, block);
      REQUIRE(pm.count == ref.count);
      REQUIRE(pm.correct == ref.correct);
      for (int k = 0; k <= K; ++k)
        for (int d = 1; d <= D; ++d) REQUIRE(pm.accuracy[k][d] == (double)ref.correct[k][d] / ref.count[d]);
    }
  }
  REQUIRE_THROWS_AS(perfect_memory({Segment{3, 40}}, test, 2, 2), std::invalid_argument);  // no symbol id 40
}
