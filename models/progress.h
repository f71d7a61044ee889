// progress.h — what a long job tells its user: a line every few seconds with the rate, the loss
// and the time left (ETA), and a learning curve kept as CSV rows.
#pragma once
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <string>

namespace memsig {

std::string fmt_duration(double seconds);  // "3m07s", "1h02m", "?" when unknown

// Wall time of a job across resumes: the seconds recorded before this session plus this session's.
class JobClock {
 public:
  explicit JobClock(double seconds_before = 0) : before_(seconds_before), start_(std::chrono::steady_clock::now()) {}
  double elapsed() const {
    return before_ + std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  }

 private:
  double before_;
  std::chrono::steady_clock::time_point start_;
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
