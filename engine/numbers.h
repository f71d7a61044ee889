// numbers.h — numbers read from text as a whole (no leading blanks, no trailing junk, no "1e2"
// where a count is wanted, no hex, no nan or inf), and numbers printed short in messages.
#pragma once
#include <cstdint>
#include <string>

namespace memsig {

bool parse_integer(const std::string& s, int64_t& out);  // [-]digits, within int64
bool parse_real(const std::string& s, double& out);      // a decimal or exponent form, finite
std::string short_number(double x);                      // 6 significant digits: "1.79769e+308", "0.05"

}  // namespace memsig
