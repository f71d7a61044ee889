#include "corpora/asterisk.h"

#include <zlib.h>

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <map>
#include <sstream>

#include "corpora/speech_data.h"
#include "engine/files.h"

namespace memsig {

namespace fs = std::filesystem;

namespace {

std::string read_gzip(const std::string& path) {
  require_regular_file(path);
  gzFile f = gzopen(path.c_str(), "rb");
  if (!f) throw FileError(path, "cannot open");
  std::string out;
  char buf[65536];
  int n;
  while ((n = gzread(f, buf, sizeof buf)) > 0) {
    out.append(buf, n);
    if (out.size() > (64u << 20)) {
      gzclose(f);
      throw FileError(path, "larger than 64 MB uncompressed: not a transcript list");
    }
  }
  int err = 0;
  std::string msg = n < 0 ? gzerror(f, &err) : "";
  gzclose(f);
  if (n < 0) throw FileError(path, "damaged gzip data: " + msg);
  return out;
}

}  // namespace

std::string asterisk_transcript(const std::string& raw, std::string* why) {
  static const char* digit_words[] = {"zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"};
  std::string s;
  int depth = 0;
  for (char c : raw) {  // bracketed notes out
    if (c == '[') ++depth;
    else if (c == ']') depth = std::max(0, depth - 1);
    else if (depth == 0) s += c;
  }
  // Tokens: a lone digit, '*' and '#' as spoken words.
  std::string out;
  size_t i = 0;
  while (i < s.size()) {
    char c = s[i];
    bool lone_digit = c >= '0' && c <= '9' && (i + 1 == s.size() || !(s[i + 1] >= '0' && s[i + 1] <= '9')) &&
                      (i == 0 || !(s[i - 1] >= '0' && s[i - 1] <= '9'));
    // A spoken word for the sign, set apart from a letter it touches ("3D" -> "three d").
    auto say = [&](const std::string& w) {
      bool before = i > 0 && std::isalnum((unsigned char)s[i - 1]), after = i + 1 < s.size() && std::isalnum((unsigned char)s[i + 1]);
      out += (before ? " " : "") + w + (after ? " " : "");
    };
    if (lone_digit) say(digit_words[c - '0']);
    else if (c == '*') say("star");
    else if (c == '#') say("pound");
    else if (c >= '0' && c <= '9') {
      if (why) *why = "multi-digit number";
      return "";
    } else out += c;
    ++i;
  }
  Segment seg = normalize(out);
  if (seg.empty() && why) *why = "nothing to say";
  return to_text(seg);
}

AsteriskReport import_asterisk(const std::string& out, const std::string& sounds, const std::string& transcripts) {
  std::error_code ec;
  if (!fs::is_directory(sounds, ec))
    throw FileError(sounds, "not found: install asterisk-core-sounds-en-wav (sudo apt-get install asterisk-core-sounds-en-wav)");
  if (!file_exists(transcripts))
    throw FileError(transcripts, "not found: install asterisk-core-sounds-en (sudo apt-get install asterisk-core-sounds-en)");
  std::map<std::string, std::string> text;  // prompt name -> raw transcript
  std::istringstream in(read_gzip(transcripts));
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == ';') continue;
    size_t colon = line.find(": ");
    if (colon == std::string::npos || colon == 0) continue;
    text[line.substr(0, colon)] = line.substr(colon + 2);
  }
  std::map<std::string, std::string> wav;  // prompt name ("digits/1") -> absolute path
  for (auto it = fs::recursive_directory_iterator(sounds, ec); !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
    if (!it->is_regular_file() || it->path().extension() != ".wav") continue;
    std::string rel = fs::relative(it->path(), sounds).replace_extension("").generic_string();
    wav[rel] = fs::absolute(it->path()).string();
  }
  AsteriskReport r;
  std::vector<Utterance> train, test;
  int kept = 0;
  for (auto& [name, raw] : text) {
    auto w = wav.find(name);
    if (w == wav.end()) {
      r.no_recording++;
      continue;
    }
    std::string why;
    std::string t = asterisk_transcript(raw, &why);
    if (t.empty()) {
      (why == "multi-digit number" ? r.multi_digit : r.no_speech)++;
      continue;
    }
    Utterance u;
    u.id = "allison-" + name;
    std::replace(u.id.begin(), u.id.end(), '/', '-');
    u.speaker = "allison";
    u.path = w->second;
    u.transcript = raw;
    u.text = normalize(t);
    (kept % 5 == 4 ? test : train).push_back(std::move(u));
    ++kept;
  }
  for (auto& [name, path] : wav) r.no_transcript += !text.count(name);
  r.prompts = (int)text.size();
  r.train = (int)train.size();
  r.test = (int)test.size();
  write_data_dir((fs::path(out) / "train").string(), train);
  write_data_dir((fs::path(out) / "test").string(), test);
  return r;
}

}  // namespace memsig
