// arpa.h — n-gram models in the ARPA text format that SRILM, KenLM and IRSTLM share:
//
//   \data\                              the header, then the number of n-grams per order
//   ngram 1=34
//   ngram 2=1012
//
//   \1-grams:
//   -1.23456789  a  -0.345678901     log10 P(w | context), the n-gram's symbols, log10 alpha
//   ...                                  (alpha absent = 1: no back-off weight)
//   \2-grams:
//   ...
//   \end\                               the end of the model
//
// Symbols are tokens separated by spaces, written so other toolkits can score the same text:
// <s>, </s> and <unk> as they are, space as "_", every other symbol as its character.
// Numbers are printed with 10 significant digits, so a model read back scores the same text
// to ~1e-9 bits per character.
//
// Reading checks everything a model relies on and stops at the first problem with a one-line
// FileError "PATH: line N: problem": a missing \data\, \k-grams: or \end\, counts that differ
// from \data\, a field that is not a number, an unknown symbol, a misplaced <s> or </s>, a
// duplicate n-gram, an n-gram whose prefix or suffix is not stored (the model must be closed
// under both: KenLM and SRILM write such files), a missing unigram of the 33 predictable
// symbols or of <s>, and a file that ends early. Lines before \data\ are ignored, as the format
// allows.
//
// Memory: read_arpa streams the file a line at a time and keeps only the n-grams (24 bytes each,
// sorted in place); the line of an n-gram rejected after the whole file was read (a duplicate, a
// missing context or suffix) is found by reading that section again. The model then scores with
// the table or the search scorer (models/ngram.h), whichever keeps it near its own size.
#pragma once
#include <string>

#include "models/ngram.h"

namespace memsig {

std::string arpa_symbol(int id);              // "<s>", "_", "a", ...
int arpa_symbol_id(const std::string& token);  // -1 when the token is no symbol

void write_arpa(const std::string& path, const NgramLM& lm);  // written atomically
NgramLM read_arpa(const std::string& path);
NgramLM parse_arpa(const std::string& text, const std::string& path);  // the same, from memory

}  // namespace memsig
