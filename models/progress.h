// progress.h — what a long job tells its user: a line every few seconds with the rate, the loss
// and the time left (ETA), and a learning curve kept as CSV rows.
#pragma once
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <string>

namespace memsig {

std::string fmt_duration(double seconds);  // "3m07s", "1h02m", "?" when unknown

// Time of a job across resumes: the seconds recorded before this session plus this session's.
// Wall time by default; with cpu = true the process's CPU time per thread: each interval between
// two calls adds its CPU time divided by the thread count in use then (get_threads(), which a
// ThreadGovernor may change). It does not run while the job is stopped (SIGSTOP) or waiting for a
// core another process holds, so a budget in CPU minutes buys about the same training on a busy
// machine as on a quiet one. Call elapsed() often (the trainer does, every step).
double process_cpu_seconds();
class JobClock {
 public:
  explicit JobClock(double seconds_before = 0, bool cpu = false);
  double elapsed() const;

 private:
  double before_;
  bool cpu_;
  std::chrono::steady_clock::time_point start_;
  mutable double cpu_last_ = 0, cpu_per_thread_ = 0;  // CPU time at the last call; its sum per thread
};

// Rate and ETA since the last line: due(now) says when `every` seconds have passed.
class ProgressMeter {
 public:
  ProgressMeter(double every_seconds, double now, int64_t done) : every_(every_seconds), last_t_(now), last_done_(done) {}
  bool due(double now) const { return now - last_t_ >= every_; }
  // Units per second since the last call, and the seconds `total - done` units will take at it.
  double rate(double now, int64_t done) const { return (done - last_done_) / std::max(now - last_t_, 1e-9); }
  void reset(double now, int64_t done) { last_t_ = now; last_done_ = done; }

 private:
  double every_, last_t_;
  int64_t last_done_;
};

// A learning curve: a header and rows, rewritten whole (atomically) after each new row.
class Curve {
 public:
  explicit Curve(std::string header) : header_(std::move(header)) {}
  std::string rows;  // the CSV rows so far (checkpoints keep them)
  void add(const std::string& row) { rows += row; }
  void write(const std::string& path) const;  // no-op for an empty path

 private:
  std::string header_;
};

}  // namespace memsig
