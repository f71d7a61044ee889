#include "models/progress.h"

#include <cmath>
#include <cstdio>
#include <ctime>

#include "engine/files.h"
#include "engine/kernels.h"

namespace memsig {

double process_cpu_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return ts.tv_sec + 1e-9 * ts.tv_nsec;
}

JobClock::JobClock(double seconds_before, bool cpu)
    : before_(seconds_before), cpu_(cpu), start_(std::chrono::steady_clock::now()),
      cpu_last_(cpu ? process_cpu_seconds() : 0) {}

double JobClock::elapsed() const {
  if (!cpu_) return before_ + std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  const double now = process_cpu_seconds();
  cpu_per_thread_ += (now - cpu_last_) / get_threads();
  cpu_last_ = now;
  return before_ + cpu_per_thread_;
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
