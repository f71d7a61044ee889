// options.h — strict checks for numeric options, shared by every command: the whole argument must
// be a decimal number of the option's kind (engine/numbers.h) within its range. The error names
// the option, the value and the range, with the numbers printed short.
#pragma once
#include <CLI/CLI.hpp>
#include <limits>

namespace memsig::cli {

constexpr long long kNoLimit = std::numeric_limits<long long>::max();

CLI::Validator integer_in(long long lo, long long hi);
// Reals in [lo, hi]; `above_lo`: in (lo, hi] (e.g. a learning rate above 0).
CLI::Validator real_in(double lo, double hi, bool above_lo = false);
inline CLI::Validator positive_real() { return real_in(0, std::numeric_limits<double>::max(), true); }

}  // namespace memsig::cli
