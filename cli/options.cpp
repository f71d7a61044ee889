#include "cli/options.h"

#include "engine/numbers.h"

namespace memsig::cli {

namespace {
std::string range_text(double lo, double hi, bool above_lo, bool integer) {
  std::string kind = integer ? "an integer" : "a number";
  auto num = [&](double x) { return integer ? std::to_string((long long)x) : short_number(x); };
  const bool open_top = integer ? hi >= (double)kNoLimit : hi >= std::numeric_limits<double>::max();
  if (open_top) return kind + (above_lo ? " above " : " of at least ") + num(lo);
  return kind + (above_lo ? " above " + num(lo) + " and up to " : " from " + num(lo) + " to ") + num(hi);
}
}  // namespace

CLI::Validator integer_in(long long lo, long long hi) {
  const std::string want = range_text((double)lo, (double)hi, false, true);
  return CLI::Validator(
      [=](std::string& s) -> std::string {
        int64_t v = 0;
        if (!parse_integer(s, v) || v < lo || v > hi) return "'" + s + "' must be " + want;
        return "";
      },
      "INT");
}

CLI::Validator real_in(double lo, double hi, bool above_lo) {
  const std::string want = range_text(lo, hi, above_lo, false);
  return CLI::Validator(
      [=](std::string& s) -> std::string {
        double v = 0;
        if (!parse_real(s, v) || v < lo || v > hi || (above_lo && v <= lo)) return "'" + s + "' must be " + want;
        return "";
      },
      "NUMBER");
}

}  // namespace memsig::cli
