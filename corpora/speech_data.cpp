#include "corpora/speech_data.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <set>
#include <sstream>
#include <unordered_map>

#include "engine/files.h"

namespace memsig {

namespace fs = std::filesystem;

namespace {

struct Line {
  int number;
  std::string id, rest;  // first field; everything after it (leading blanks removed)
};

// Calls each(n, line) for the non-blank lines of a text file, n counting from 1, a trailing '\r'
// (Windows line ends) removed.
template <class Each>
void for_each_nonblank_line(const std::string& content, Each each) {
  std::istringstream in(content);
  std::string line;
  int n = 0;
  while (std::getline(in, line)) {
    ++n;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.find_first_not_of(" \t") != std::string::npos) each(n, line);
  }
}

// The non-blank lines of a Kaldi table: "ID rest". Ids are unique; an id-only line has rest "".
std::vector<Line> table(const std::string& content, const std::string& path) {
  std::vector<Line> out;
  std::set<std::string> seen;
  for_each_nonblank_line(content, [&](int n, const std::string& line) {
    size_t a = line.find_first_not_of(" \t");
    size_t b = line.find_first_of(" \t", a);
    Line l{n, line.substr(a, b == std::string::npos ? std::string::npos : b - a), ""};
    if (b != std::string::npos) {
      size_t c = line.find_first_not_of(" \t", b);
      if (c != std::string::npos) l.rest = line.substr(c);
      while (!l.rest.empty() && (l.rest.back() == ' ' || l.rest.back() == '\t')) l.rest.pop_back();
    }
    if (line.find('\0') != std::string::npos) throw FileError(path + ":" + std::to_string(n), "holds a NUL byte");
    if (!seen.insert(l.id).second) throw FileError(path + ":" + std::to_string(n), "duplicate id '" + l.id + "'");
    out.push_back(std::move(l));
  });
  return out;
}

std::vector<std::string> fields(const std::string& s) {
  std::istringstream in(s);
  std::vector<std::string> f;
  std::string w;
  while (in >> w) f.push_back(w);
  return f;
}

// A whole-string number, finite.
bool parse_seconds(const std::string& s, double& v) {
  char* end = nullptr;
  v = std::strtod(s.c_str(), &end);
  return !s.empty() && end == s.c_str() + s.size() && std::isfinite(v);
}

std::string resolve(const std::string& dir, const std::string& p) {
  if (p.empty() || p[0] == '/' || dir.empty()) return p;
  return (fs::path(dir) / p).lexically_normal().string();
}

std::string at(const std::string& path, int line) { return path + ":" + std::to_string(line); }

}  // namespace

std::string SpeechData::skipped_summary() const {
  int total = 0;
  std::string parts;
  for (auto& [why, n] : skipped) {
    total += n;
    parts += (parts.empty() ? "" : ", ") + std::to_string(n) + " " + why;
  }
  return total ? std::to_string(total) + " skipped: " + parts : "";
}

double SpeechData::seconds_known() const {
  double s = 0;
  for (const Utterance& u : utts)
    if (u.end >= 0) s += u.end - u.start;
  return s;
}

SpeechData parse_data_dir(const std::string& dir, const std::string& wav_scp, const std::string& text,
                          const std::string& utt2spk, const std::string& segments, const std::string& graphemes) {
  auto file = [&](const char* name) { return dir.empty() ? std::string(name) : (fs::path(dir) / name).string(); };
  SpeechData d;
  d.source = dir;
  std::unordered_map<std::string, std::string> rec_path;
  for (const Line& l : table(wav_scp, file("wav.scp"))) {
    if (l.rest.empty()) throw FileError(at(file("wav.scp"), l.number), "'" + l.id + "' has no path");
    if (l.rest.back() == '|')
      throw FileError(at(file("wav.scp"), l.number),
                      "piped command entries are not supported: convert the audio to files first (e.g. with sox)");
    rec_path[l.id] = resolve(dir, l.rest);
  }
  struct Seg {
    std::string rec;
    double start, end;
  };
  std::unordered_map<std::string, Seg> seg;
  bool have_segments = !segments.empty();
  for (const Line& l : table(segments, file("segments"))) {
    auto f = fields(l.rest);
    double s, e;
    if (f.size() != 3 || !parse_seconds(f[1], s) || !parse_seconds(f[2], e))
      throw FileError(at(file("segments"), l.number), "expected 'UTT REC START END' with times in seconds");
    if (s < 0 || (e >= 0 && e <= s)) throw FileError(at(file("segments"), l.number), "the segment ends before it starts");
    seg[l.id] = {f[0], s, e};
  }
  std::unordered_map<std::string, std::string> spk;
  for (const Line& l : table(utt2spk, file("utt2spk"))) {
    auto f = fields(l.rest);
    if (f.size() != 1) throw FileError(at(file("utt2spk"), l.number), "expected 'UTT SPEAKER'");
    spk[l.id] = f[0];
  }
  std::unordered_map<std::string, std::pair<int, std::vector<float>>> spans;
  for (const Line& l : table(graphemes, file("graphemes"))) {
    std::vector<float> v;
    for (const std::string& w : fields(l.rest)) {
      double x;
      if (!parse_seconds(w, x) || x < 0) throw FileError(at(file("graphemes"), l.number), "'" + w + "' is not a time in seconds");
      v.push_back((float)x);
    }
    for (size_t i = 0; i + 1 < v.size(); i += 2)
      if (v[i + 1] < v[i] || (i >= 2 && v[i] < v[i - 2]))
        throw FileError(at(file("graphemes"), l.number), "spans must be in order, each ending after it starts");
    spans[l.id] = {l.number, std::move(v)};
  }
  std::set<std::string> with_text;
  for (const Line& l : table(text, file("text"))) {
    with_text.insert(l.id);
    Utterance u;
    u.id = l.id;
    u.transcript = l.rest;
    u.text = normalize(l.rest);
    if (u.text.empty()) {
      d.skipped["no usable symbol in the transcript"]++;
      continue;
    }
    std::string rec = u.id;
    if (have_segments) {
      auto s = seg.find(u.id);
      if (s == seg.end()) {
        d.skipped["not in segments"]++;
        continue;
      }
      rec = s->second.rec, u.start = s->second.start, u.end = s->second.end;
    }
    auto p = rec_path.find(rec);
    if (p == rec_path.end()) {
      d.skipped["no audio in wav.scp"]++;
      continue;
    }
    u.path = p->second;
    auto sp = spk.find(u.id);
    u.speaker = sp == spk.end() ? u.id : sp->second;
    auto g = spans.find(u.id);
    if (g != spans.end()) {
      if (g->second.second.size() != 2 * u.text.size())
        throw FileError(at(file("graphemes"), g->second.first),
                        std::to_string(g->second.second.size()) + " times for a transcript of " +
                            std::to_string(u.text.size()) + " symbols (2 per symbol expected)");
      u.spans = std::move(g->second.second);
    }
    d.utts.push_back(std::move(u));
  }
  int no_text = 0;
  if (have_segments) {
    for (auto& [id, s] : seg) no_text += !with_text.count(id);
  } else {
    for (auto& [id, p] : rec_path) no_text += !with_text.count(id);
  }
  if (no_text) d.skipped["audio with no transcript"] += no_text;
  return d;
}

SpeechData parse_manifest(const std::string& path, const std::string& content) {
  SpeechData d;
  d.source = path;
  std::string dir = fs::path(path).parent_path().string();
  for_each_nonblank_line(content, [&](int n, const std::string& line) {
    size_t tab = line.find('\t');
    if (tab == std::string::npos || tab == 0) throw FileError(at(path, n), "expected 'PATH<TAB>transcript'");
    Utterance u;
    u.path = resolve(dir, line.substr(0, tab));
    u.id = "utt" + std::to_string(n);
    u.speaker = u.id;
    u.transcript = line.substr(tab + 1);
    u.text = normalize(u.transcript);
    if (u.text.empty()) {
      d.skipped["no usable symbol in the transcript"]++;
      return;
    }
    d.utts.push_back(std::move(u));
  });
  return d;
}

SpeechData read_speech_data(const std::string& where) {
  std::error_code ec;
  if (fs::is_directory(where, ec)) {
    auto opt = [&](const char* name) {
      std::string p = (fs::path(where) / name).string();
      return file_exists(p) ? read_file(p) : std::string();
    };
    for (const char* need : {"wav.scp", "text"})
      if (!file_exists((fs::path(where) / need).string()))
        throw FileError((fs::path(where) / need).string(), "missing: a data directory needs wav.scp and text");
    return parse_data_dir(where, opt("wav.scp"), opt("text"), opt("utt2spk"), opt("segments"), opt("graphemes"));
  }
  if (!file_exists(where)) throw FileError(where, "no such data directory or manifest");
  return parse_manifest(where, read_file(where));
}

void write_data_dir(const std::string& dir, const std::vector<Utterance>& unsorted) {
  make_dirs(dir);
  // Kaldi's tools want every table sorted by id (C locale).
  std::vector<Utterance> utts = unsorted;
  std::sort(utts.begin(), utts.end(), [](const Utterance& a, const Utterance& b) { return a.id < b.id; });
  std::string wav, text, u2s, gr;
  std::map<std::string, std::vector<std::string>> s2u;
  bool all_spans = !utts.empty();
  fs::path base = fs::absolute(dir).lexically_normal();
  for (const Utterance& u : utts) {
    std::string p = u.path;
    fs::path abs = fs::absolute(p).lexically_normal();
    auto rel = abs.lexically_relative(base);
    if (!rel.empty() && rel.native().rfind("..", 0) != 0) p = rel.string();
    wav += u.id + " " + p + "\n";
    text += u.id + " " + to_text(u.text) + "\n";
    u2s += u.id + " " + u.speaker + "\n";
    s2u[u.speaker].push_back(u.id);
    if (u.spans.size() != 2 * u.text.size()) all_spans = false;
    if (all_spans) {
      gr += u.id;
      char b[32];
      for (float t : u.spans) std::snprintf(b, sizeof b, " %.4f", t), gr += b;
      gr += "\n";
    }
  }
  std::string spk;
  for (auto& [s, ids] : s2u) {
    spk += s;
    for (auto& i : ids) spk += " " + i;
    spk += "\n";
  }
  write_text_atomically((fs::path(dir) / "wav.scp").string(), wav);
  write_text_atomically((fs::path(dir) / "text").string(), text);
  write_text_atomically((fs::path(dir) / "utt2spk").string(), u2s);
  write_text_atomically((fs::path(dir) / "spk2utt").string(), spk);
  if (all_spans) write_text_atomically((fs::path(dir) / "graphemes").string(), gr);
}

std::vector<int> frame_symbols(const Utterance& u, int frames, double shift, double window) {
  std::vector<int> out(std::max(frames, 0), -1);
  if (u.spans.size() != 2 * u.text.size()) return out;
  size_t k = 0;
  for (int t = 0; t < frames; ++t) {
    double c = t * shift + window / 2;
    while (k < u.text.size() && u.spans[2 * k + 1] <= c) ++k;  // spans are in order
    if (k < u.text.size() && u.spans[2 * k] <= c) out[t] = (int)k;
  }
  return out;
}

}  // namespace memsig
