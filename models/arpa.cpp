#include "models/arpa.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <functional>
#include <memory>
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

// Where lines come from: a file, streamed (read_arpa), or a string (parse_arpa). A line is
// returned without its '\n' and stays valid until the next call.
class LineSource {
 public:
  virtual ~LineSource() = default;
  virtual bool next(std::string_view& line) = 0;
};

class TextLines : public LineSource {
 public:
  explicit TextLines(const std::string& text) : text_(text) {}
  bool next(std::string_view& line) override {
    if (pos_ >= text_.size()) return false;
    size_t end = text_.find('\n', pos_);
    if (end == std::string::npos) end = text_.size();
    line = std::string_view(text_).substr(pos_, end - pos_);
    pos_ = end + 1;
    return true;
  }

 private:
  const std::string& text_;
  size_t pos_ = 0;
};

class FileLines : public LineSource {
 public:
  explicit FileLines(const std::string& path) : path_(path) {
    require_regular_file(path);  // before opening: a FIFO with no writer would block
    f_ = std::fopen(path.c_str(), "rb");
    if (!f_) throw FileError(path, "cannot open for reading");
  }
  ~FileLines() override {
    std::free(buf_);
    std::fclose(f_);
  }
  FileLines(const FileLines&) = delete;
  FileLines& operator=(const FileLines&) = delete;
  bool next(std::string_view& line) override {
    ssize_t n = ::getline(&buf_, &cap_, f_);
    if (n < 0) {
      if (std::ferror(f_)) throw FileError(path_, "read failed");
      return false;
    }
    line = std::string_view(buf_, (size_t)n);
    if (!line.empty() && line.back() == '\n') line.remove_suffix(1);
    return true;
  }

 private:
  std::string path_;
  FILE* f_ = nullptr;
  char* buf_ = nullptr;
  size_t cap_ = 0;
};

using OpenLines = std::function<std::unique_ptr<LineSource>()>;

// The lines of a source, numbered from 1 ('\r' before '\n' dropped), with one line of look-back.
class Lines {
 public:
  explicit Lines(LineSource& src) : src_(src) {}
  bool next(std::string_view& line) {
    if (held_) {
      held_ = false;
    } else {
      if (!src_.next(cur_)) return false;
      if (!cur_.empty() && cur_.back() == '\r') cur_.remove_suffix(1);
    }
    line = cur_;
    ++number_;
    return true;
  }
  void unread() { held_ = true, --number_; }
  int number() const { return number_; }

 private:
  LineSource& src_;
  std::string_view cur_;
  bool held_ = false;
  int number_ = 0;
};

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// The fields of a line, as views into it.
void fields_of(std::string_view s, std::vector<std::string_view>& out) {
  out.clear();
  size_t i = 0;
  while (i < s.size()) {
    while (i < s.size() && (s[i] == ' ' || s[i] == '\t')) ++i;
    size_t j = i;
    while (j < s.size() && s[j] != ' ' && s[j] != '\t') ++j;
    if (j > i) out.push_back(s.substr(i, j - i));
    i = j;
  }
}

// A field that is all of one finite number. Fields are short; copying one keeps strtod inside it.
bool to_number(std::string_view field, double& x) {
  char buf[64];
  if (field.empty() || field.size() >= sizeof buf) {
    std::string s(field);
    char* end = nullptr;
    x = std::strtod(s.c_str(), &end);
    return !s.empty() && end == s.c_str() + s.size() && std::isfinite(x);
  }
  std::memcpy(buf, field.data(), field.size());
  buf[field.size()] = '\0';
  char* end = nullptr;
  x = std::strtod(buf, &end);
  return end == buf + field.size() && std::isfinite(x);
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

// arpa_symbol_id without building a string: one-character tokens by a table.
int symbol_id(std::string_view token) {
  static const std::vector<int> one_char = [] {
    std::vector<int> t(256, -1);
    t[(unsigned char)'_'] = kSpace;
    for (int id = 0; id < kNumSymbols; ++id)
      if (id != kSpace && symbol_names()[id].size() == 1) t[(unsigned char)symbol_names()[id][0]] = id;
    return t;
  }();
  if (token.size() == 1) return one_char[(unsigned char)token[0]];
  const auto& names = symbol_names();
  for (int id = 0; id < kNumSymbols; ++id)
    if (id != kSpace && names[id] == token) return id;
  return -1;
}

std::string section(int k) { return "\\" + std::to_string(k) + "-grams:"; }

NgramLM parse_lines(const OpenLines& open, uint64_t size, const std::string& path);

}  // namespace

NgramLM read_arpa(const std::string& path) {
  return parse_lines([&] { return std::unique_ptr<LineSource>(new FileLines(path)); },
                     std::filesystem::is_regular_file(path) ? std::filesystem::file_size(path) : 0, path);
}

NgramLM parse_arpa(const std::string& text, const std::string& path) {
  return parse_lines([&] { return std::unique_ptr<LineSource>(new TextLines(text)); }, text.size(), path);
}

namespace {

// The reader. One pass over the lines keeps only the n-grams (24 bytes each); the checks that need
// all of them (duplicates, closure) run after it, and find the line of an n-gram they reject by
// reading its section again.
NgramLM parse_lines(const OpenLines& open, uint64_t size, const std::string& path) {
  std::unique_ptr<LineSource> source = open();
  Lines in(*source);
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
  std::vector<int> header_line(N + 1, 0);
  std::vector<std::string_view> f;
  for (int k = 1; k <= N; ++k) {
    bool more = in.next(line);
    while (more && trim(line).empty()) more = in.next(line);
    if (!more) fail(in.number(), "file ends before " + section(k) + " (truncated?)");
    if (trim(line) != section(k)) fail(in.number(), "expected " + section(k) + ", found " + quoted(trim(line)));
    header_line[k] = in.number();
    // Room for the declared count, but no more than the file could hold (a k-gram line takes at
    // least 2k + 1 bytes): a false count must not allocate.
    grams[k].reserve((size_t)std::min<uint64_t>((uint64_t)declared[k], size / (2 * k + 1) + 1));
    bool ended = false;  // by a blank line or the next section
    while (in.next(line)) {
      std::string_view t = trim(line);
      if (t.empty()) { ended = true; break; }
      if (t[0] == '\\') { in.unread(); ended = true; break; }
      fields_of(t, f);
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
        int id = symbol_id(f[1 + i]);
        if (id < 0) fail(in.number(), "unknown symbol " + quoted(f[1 + i]));
        if (id == kBos && i > 0) fail(in.number(), "<s> inside an n-gram");
        if (id == kEos && i < k - 1) fail(in.number(), "</s> inside an n-gram");
        key = key << 6 | (uint64_t)id;
      }
      if ((int64_t)grams[k].size() == declared[k])
        fail(in.number(), section(k) + " has more than the " + std::to_string(declared[k]) + " n-grams \\data\\ declares");
      grams[k].push_back({key, lp * kLn10, bo * kLn10});
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
  source.reset();

  // The line of the n-th (1, 2, ..) entry of \k-grams: that holds `key`, read again from the file
  // (the first pass has accepted every line of the section).
  auto line_of = [&](int k, uint64_t key, int nth) {
    std::unique_ptr<LineSource> again = open();
    Lines re(*again);
    std::string_view l;
    while (re.number() < header_line[k] && re.next(l)) {
    }
    std::vector<std::string_view> g;
    while (re.next(l)) {
      std::string_view t = trim(l);
      if (t.empty() || t[0] == '\\') break;
      fields_of(t, g);
      if ((int)g.size() < k + 1) break;
      uint64_t x = 0;
      for (int i = 0; i < k; ++i) x = x << 6 | (uint64_t)symbol_id(g[1 + i]);
      if (x == key && --nth == 0) return re.number();
    }
    return header_line[k];  // the file changed under us
  };

  // What the automaton relies on: no duplicates, every n-gram's context and suffix stored, and
  // every predictable symbol and <s> among the unigrams. Each order is sorted in place.
  auto by_key = [](const NgramEntry& a, const NgramEntry& b) { return a.key < b.key; };
  for (int k = 1; k <= N; ++k) {
    std::sort(grams[k].begin(), grams[k].end(), by_key);
    auto dup = std::adjacent_find(grams[k].begin(), grams[k].end(),
                                  [](const NgramEntry& a, const NgramEntry& b) { return a.key == b.key; });
    if (dup != grams[k].end())
      fail(line_of(k, dup->key, 2), "duplicate " + std::to_string(k) + "-gram '" + arpa_ngram(dup->key, k) +
                                        "' (first on line " + std::to_string(line_of(k, dup->key, 1)) + ")");
  }
  auto stored = [&](int k, uint64_t key) {
    return std::binary_search(grams[k].begin(), grams[k].end(), NgramEntry{key, 0, 0}, by_key);
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
        fail(line_of(k, key, 1), std::to_string(k) + "-gram '" + arpa_ngram(key, k) + "' has no " + std::to_string(k - 1) +
                                     "-gram for its context '" + arpa_ngram(ngram_context(key), k - 1) + "'");
      if (!stored(k - 1, ngram_suffix(key, k - 1)))
        fail(line_of(k, key, 1), std::to_string(k) + "-gram '" + arpa_ngram(key, k) + "' has no " + std::to_string(k - 1) +
                                     "-gram for its suffix '" + arpa_ngram(ngram_suffix(key, k - 1), k - 1) + "'");
    }
  try {
    return NgramLM::from_ngrams(N, std::move(grams));
  } catch (const std::invalid_argument& e) {
    throw FileError(path, e.what());
  }
}

}  // namespace

}  // namespace memsig
