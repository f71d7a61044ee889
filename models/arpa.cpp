#include "models/arpa.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <stdexcept>
#include <string_view>

#include "engine/files.h"

namespace memsig {

std::string arpa_symbol(int id) { return id == kSpace ? "_" : symbol_names().at(id); }

int arpa_symbol_id(const std::string& token) {
  if (token == "_") return kSpace;
  const auto& names = symbol_names();
  for (int id = 0; id < kNumSymbols; ++id)
    if (id != kSpace && names[id] == token) return id;
  return -1;
}

namespace {

const double kLn10 = std::log(10.0);

std::string arpa_ngram(uint64_t key, int k) {
  std::string s;
  for (uint8_t w : ngram_symbols(key, k)) s += (s.empty() ? "" : " ") + arpa_symbol(w);
  return s;
}

}  // namespace

void write_arpa(const std::string& path, const NgramLM& lm) {
  const int N = lm.order();
  write_atomically(path, [&](const std::string& tmp) {
    FILE* f = std::fopen(tmp.c_str(), "wb");
    if (!f) throw FileError(path, "cannot open for writing");
    std::fprintf(f, "\\data\\\n");
    for (int k = 1; k <= N; ++k) std::fprintf(f, "ngram %d=%zu\n", k, lm.ngrams(k).size());
    for (int k = 1; k <= N; ++k) {
      std::fprintf(f, "\n\\%d-grams:\n", k);
      for (const NgramEntry& e : lm.ngrams(k)) {
        std::string words = arpa_ngram(e.key, k);
        if (k < N && e.log_backoff != 0)
          std::fprintf(f, "%.10g\t%s\t%.10g\n", e.log_prob / kLn10, words.c_str(), e.log_backoff / kLn10);
        else
          std::fprintf(f, "%.10g\t%s\n", e.log_prob / kLn10, words.c_str());
      }
    }
    std::fprintf(f, "\n\\end\\\n");
    bool ok = std::ferror(f) == 0;
    if (std::fclose(f) != 0 || !ok) throw FileError(path, "write failed");
  });
}

namespace {

// The file's lines, numbered from 1, with one line of look-back.
class Lines {
 public:
  explicit Lines(const std::string& text) : text_(text) {}
  bool next(std::string_view& line) {
    if (pos_ >= text_.size()) return false;
    prev_ = pos_;
    size_t end = text_.find('\n', pos_);
    if (end == std::string::npos) end = text_.size();
    line = std::string_view(text_).substr(pos_, end - pos_);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    pos_ = end + 1;
    ++number_;
    return true;
  }
  void unread() { pos_ = prev_, --number_; }
  int number() const { return number_; }

 private:
  const std::string& text_;
  size_t pos_ = 0, prev_ = 0;
  int number_ = 0;
};

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

std::vector<std::string> fields_of(std::string_view s) {
  std::vector<std::string> out;
  size_t i = 0;
  while (i < s.size()) {
    while (i < s.size() && (s[i] == ' ' || s[i] == '\t')) ++i;
    size_t j = i;
    while (j < s.size() && s[j] != ' ' && s[j] != '\t') ++j;
    if (j > i) out.emplace_back(s.substr(i, j - i));
    i = j;
  }
  return out;
}

bool to_number(const std::string& s, double& x) {
  char* end = nullptr;
  x = std::strtod(s.c_str(), &end);
  return !s.empty() && end == s.c_str() + s.size() && std::isfinite(x);
}

bool to_count(std::string_view s, int64_t& n) {
  s = trim(s);
  if (s.empty() || s.size() > 15) return false;
  n = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
    n = n * 10 + (c - '0');
  }
  return true;
}

std::string section(int k) { return "\\" + std::to_string(k) + "-grams:"; }

}  // namespace

NgramLM read_arpa(const std::string& path) { return parse_arpa(read_file(path), path); }

NgramLM parse_arpa(const std::string& text, const std::string& path) {
  Lines in(text);
  std::string_view line;
  auto fail = [&](int at, const std::string& problem) -> void {
    throw FileError(path, "line " + std::to_string(std::max(at, 1)) + ": " + problem);
  };
  auto quoted = [](std::string_view s) { return "'" + std::string(s.substr(0, 40)) + (s.size() > 40 ? "...'" : "'"); };

  // \data\ (anything before it is ignored), then "ngram k=count" for k = 1, 2, ...
  bool data = false;
  while (!data && in.next(line)) data = trim(line) == "\\data\\";
  if (!data) fail(in.number(), "no \\data\\ line: not an ARPA file");
  std::vector<int64_t> declared{0};
  while (in.next(line)) {
    std::string_view t = trim(line);
    if (t.empty()) {
      if (declared.size() > 1) break;
      continue;
    }
    if (t[0] == '\\') {
      in.unread();
      break;
    }
    size_t eq = t.find('=');
    int64_t k = 0, n = 0;
    if (t.substr(0, 5) != "ngram" || eq == std::string_view::npos || !to_count(t.substr(5, eq - 5), k) ||
        !to_count(t.substr(eq + 1), n))
      fail(in.number(), "expected 'ngram k=count', found " + quoted(t));
    if (k != (int64_t)declared.size())
      fail(in.number(), "expected the count of " + std::to_string(declared.size()) + "-grams, found " + quoted(t));
    if (k > kMaxNgramOrder) fail(in.number(), "order " + std::to_string(k) + " is above the maximum " + std::to_string(kMaxNgramOrder));
    declared.push_back(n);
  }
  const int N = (int)declared.size() - 1;
  if (N == 0) fail(in.number(), "\\data\\ lists no 'ngram k=count' line");

  // The sections \1-grams: .. \N-grams:, each entry "log10p w1 .. wk [log10alpha]".
  std::vector<std::vector<NgramEntry>> grams(N + 1);
  std::vector<std::vector<int>> line_of(N + 1);  // the line of each entry, for later checks
  std::vector<int> header_line(N + 1, 0);
  for (int k = 1; k <= N; ++k) {
    bool more = in.next(line);
    while (more && trim(line).empty()) more = in.next(line);
    if (!more) fail(in.number(), "file ends before " + section(k) + " (truncated?)");
    if (trim(line) != section(k)) fail(in.number(), "expected " + section(k) + ", found " + quoted(trim(line)));
    header_line[k] = in.number();
    bool ended = false;  // by a blank line or the next section
    while (in.next(line)) {
      std::string_view t = trim(line);
      if (t.empty()) { ended = true; break; }
      if (t[0] == '\\') { in.unread(); ended = true; break; }
      std::vector<std::string> f = fields_of(t);
      if ((int)f.size() != k + 1 && (int)f.size() != k + 2)
        fail(in.number(), "a " + std::to_string(k) + "-gram line needs a log10 probability, " + std::to_string(k) +
                              " symbols and an optional back-off weight; found " + std::to_string(f.size()) + " fields");
      double lp = 0, bo = 0;
      if (!to_number(f[0], lp)) fail(in.number(), quoted(f[0]) + " is not a number");
      // A probability is at most 1, and its natural log must be a finite float (-99 is ARPA's "never").
      if (lp > 0) fail(in.number(), "log10 probability " + quoted(f[0]) + " is above 0 (a probability above 1)");
      if (!std::isfinite((float)(lp * kLn10))) fail(in.number(), "log10 probability " + quoted(f[0]) + " is out of range");
      if ((int)f.size() == k + 2 && !to_number(f[k + 1], bo)) fail(in.number(), quoted(f[k + 1]) + " is not a number");
      if (!std::isfinite((float)(bo * kLn10))) fail(in.number(), "log10 back-off weight " + quoted(f[k + 1]) + " is out of range");
      uint64_t key = 0;
      for (int i = 0; i < k; ++i) {
        int id = arpa_symbol_id(f[1 + i]);
        if (id < 0) fail(in.number(), "unknown symbol " + quoted(f[1 + i]));
        if (id == kBos && i > 0) fail(in.number(), "<s> inside an n-gram");
        if (id == kEos && i < k - 1) fail(in.number(), "</s> inside an n-gram");
        key = key << 6 | (uint64_t)id;
      }
      if ((int64_t)grams[k].size() == declared[k])
        fail(in.number(), section(k) + " has more than the " + std::to_string(declared[k]) + " n-grams \\data\\ declares");
      grams[k].push_back({key, lp * kLn10, bo * kLn10});
      line_of[k].push_back(in.number());
    }
    if ((int64_t)grams[k].size() != declared[k]) {
      if (!ended)
        fail(in.number(), "file ends in " + section(k) + " after " + std::to_string(grams[k].size()) + " of " +
                              std::to_string(declared[k]) + " n-grams (truncated?)");
      fail(in.number(), section(k) + " has " + std::to_string(grams[k].size()) + " n-grams, \\data\\ declares " +
                            std::to_string(declared[k]));
    }
  }
  bool more = in.next(line);
  while (more && trim(line).empty()) more = in.next(line);
  if (!more) fail(in.number(), "file ends before \\end\\ (truncated?)");
  if (trim(line) != "\\end\\") fail(in.number(), "expected \\end\\, found " + quoted(trim(line)));

  // What the automaton relies on: no duplicates, every n-gram's context and suffix stored, and
  // every predictable symbol and <s> among the unigrams.
  for (int k = 1; k <= N; ++k) {
    std::vector<size_t> order(grams[k].size());
    for (size_t i = 0; i < order.size(); ++i) order[i] = i;
    std::sort(order.begin(), order.end(), [&](size_t a, size_t b) {
      return grams[k][a].key != grams[k][b].key ? grams[k][a].key < grams[k][b].key : line_of[k][a] < line_of[k][b];
    });
    std::vector<NgramEntry> sorted;
    std::vector<int> lines;
    for (size_t i : order) {
      if (!sorted.empty() && sorted.back().key == grams[k][i].key)
        fail(line_of[k][i], "duplicate " + std::to_string(k) + "-gram '" + arpa_ngram(grams[k][i].key, k) +
                                "' (first on line " + std::to_string(lines.back()) + ")");
      sorted.push_back(grams[k][i]);
      lines.push_back(line_of[k][i]);
    }
    grams[k] = std::move(sorted);
    line_of[k] = std::move(lines);
  }
  auto stored = [&](int k, uint64_t key) {
    return std::binary_search(grams[k].begin(), grams[k].end(), NgramEntry{key, 0, 0},
                              [](const NgramEntry& a, const NgramEntry& b) { return a.key < b.key; });
  };
  for (int w = 0; w < kNumSymbols; ++w)
    if ((w != kBos || N > 1) && !stored(1, (uint64_t)w))
      fail(header_line[1], "\\1-grams: has no unigram '" + arpa_symbol(w) + "' (every symbol needs one)");
  // The unigrams are a distribution over the symbols that can follow (all but <s>): they must sum
  // to one (to the rounding of the file's printed digits), or every score built on them is wrong.
  double unigram_mass = 0;
  for (auto& e : grams[1])
    if (e.key != (uint64_t)kBos) unigram_mass += std::exp(e.log_prob);
  if (std::fabs(unigram_mass - 1) > 1e-3)
    fail(header_line[1], "the unigram probabilities sum to " + std::to_string(unigram_mass) + ", not 1");
  for (int k = 2; k <= N; ++k)
    for (size_t i = 0; i < grams[k].size(); ++i) {
      uint64_t key = grams[k][i].key;
      if (!stored(k - 1, ngram_context(key)))
        fail(line_of[k][i], std::to_string(k) + "-gram '" + arpa_ngram(key, k) + "' has no " + std::to_string(k - 1) +
                                "-gram for its context '" + arpa_ngram(ngram_context(key), k - 1) + "'");
      if (!stored(k - 1, ngram_suffix(key, k - 1)))
        fail(line_of[k][i], std::to_string(k) + "-gram '" + arpa_ngram(key, k) + "' has no " + std::to_string(k - 1) +
                                "-gram for its suffix '" + arpa_ngram(ngram_suffix(key, k - 1), k - 1) + "'");
    }
  try {
    return NgramLM::from_ngrams(N, std::move(grams));
  } catch (const std::invalid_argument& e) {
    throw FileError(path, e.what());
  }
}

}  // namespace memsig
