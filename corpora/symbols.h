// symbols.h — the 34-symbol grapheme alphabet of the memory-signature method and the text
// normalisation that maps raw text onto it.
//
//   id  0 <s>   1 </s>   2 <unk>   3..28 a..z   29 space   30 .   31 ,   32 #   33 '
//
// Normalisation (normalize()):
//   * letters are lower-cased; every digit becomes '#';
//   * '!', '?', ';', ':' become '.';  '`' becomes '\'';
//   * '-', '/', '_', tabs and other whitespace become a space;
//   * every other character (quotes, brackets, '&', '$', '%', bytes of non-ASCII UTF-8, ...) is dropped;
//   * runs of spaces collapse to one and the segment is trimmed.
// In PTB mode the whole token "N" (the number token) becomes '#', and the token "<unk>" becomes
// the <unk> symbol; the lower-case 'n' of "n't" stays a letter.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace memsig {

constexpr int kNumSymbols = 34;
constexpr int kBos = 0, kEos = 1, kUnk = 2, kSpace = 29;

using Segment = std::vector<uint8_t>;  // symbol ids

const std::vector<std::string>& symbol_names();  // "<s>", "</s>", "<unk>", "a", ..., "'"
int symbol_of_char(char c);                      // id of an already-normal character, or -1
std::string symbol_label(int id);                // for display: space is shown as "␣"
Segment normalize(const std::string& line, bool ptb_tokens = false);
std::string to_text(const Segment& s);           // ids back to text (<unk> written as "<unk>")

}  // namespace memsig
