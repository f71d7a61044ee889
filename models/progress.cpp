#include "models/progress.h"

#include <cmath>
#include <cstdio>
#include <ctime>

#include "engine/files.h"

namespace memsig {

double process_cpu_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return ts.tv_sec + 1e-9 * ts.tv_nsec;
}

std::string fmt_duration(double s) {
  char buf[32];
  if (s < 0 || !std::isfinite(s)) return "?";
  if (s >= 3600) std::snprintf(buf, sizeof buf, "%dh%02dm", (int)(s / 3600), (int)std::fmod(s / 60, 60));
  else std::snprintf(buf, sizeof buf, "%dm%02ds", (int)(s / 60), (int)std::fmod(s, 60));
  return buf;
}

void Curve::write(const std::string& path) const {
  if (!path.empty()) write_text_atomically(path, header_ + rows);
}

}  // namespace memsig
