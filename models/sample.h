// sample.h — generating text from a CharLM, one symbol at a time, carrying the state forward.
#pragma once
#include <string>

#include "models/charlm.h"

namespace memsig {

// Starts from <s> followed by `prime`, then draws up to max_len symbols from softmax(logits / T),
// stopping at </s>. Returns the generated text (prime included).
std::string sample_text(const CharLM& model, Rng& rng, const std::string& prime, int max_len, float temperature);

}  // namespace memsig
