#include "corpora/symbols.h"

#include <cctype>

namespace memsig {

const std::vector<std::string>& symbol_names() {
  static const std::vector<std::string> names = [] {
    std::vector<std::string> v{"<s>", "</s>", "<unk>"};
    for (char c = 'a'; c <= 'z'; ++c) v.push_back(std::string(1, c));
    for (const char* s : {" ", ".", ",", "#", "'"}) v.push_back(s);
    return v;
  }();
  return names;
}

int symbol_of_char(char c) {
  if (c >= 'a' && c <= 'z') return 3 + (c - 'a');
  switch (c) {
    case ' ': return 29;
    case '.': return 30;
    case ',': return 31;
    case '#': return 32;
    case '\'': return 33;
    default: return -1;
  }
}

std::string symbol_label(int id) {
  if (id == kSpace) return "\u2423";  // open box, a visible space
  return symbol_names().at(id);
}

// One raw character to its normal form: a symbol character, ' ' or 0 (dropped).
static char normal_char(unsigned char c) {
  if (c >= 'A' && c <= 'Z') return (char)(c - 'A' + 'a');
  if (c >= 'a' && c <= 'z') return (char)c;
  if (c >= '0' && c <= '9') return '#';
  switch (c) {
    case '.': case ',': case '\'': case '#': return (char)c;
    case '!': case '?': case ';': case ':': return '.';
    case '`': return '\'';
    case '-': case '/': case '_': return ' ';
    default: return std::isspace(c) ? ' ' : 0;
  }
}

Segment normalize(const std::string& line, bool ptb_tokens) {
  Segment out;
  auto push = [&](uint8_t id) {
    if (id == kSpace && (out.empty() || out.back() == kSpace)) return;  // collapse, trim front
    out.push_back(id);
  };
  size_t i = 0;
  while (i < line.size()) {
    if (ptb_tokens) {  // whole-token rules at token starts
      bool at_start = i == 0 || std::isspace((unsigned char)line[i - 1]);
      auto token_is = [&](const char* tok, size_t len) {
        return at_start && line.compare(i, len, tok) == 0 &&
               (i + len == line.size() || std::isspace((unsigned char)line[i + len]));
      };
      if (token_is("<unk>", 5)) { push(kUnk); i += 5; continue; }
      if (token_is("N", 1)) { push(32); i += 1; continue; }
    }
    char c = normal_char((unsigned char)line[i++]);
    if (c) push((uint8_t)symbol_of_char(c));
  }
  while (!out.empty() && out.back() == kSpace) out.pop_back();
  return out;
}

std::string to_text(const Segment& s) {
  std::string t;
  for (uint8_t id : s) t += id == kUnk ? "<unk>" : (id < 3 ? "" : symbol_names()[id]);
  return t;
}

}  // namespace memsig
