// thread_governor.h — the thread count of a long loop, chosen by measuring it as it runs.
//
// Two threads are not always faster than one. On a 2-core machine with one other busy process, a
// 2-thread training run kept 47% of its quiet speed and a 1-thread run 65% (measured here): a
// thread that spins at a barrier while the other process holds its core stalls every step. On
// 16 cores a small LSTM ran slower at 16 threads than at 8. The load average, read at start
// (set_threads), cannot see a process that starts later, nor a model too small to split.
//
// So a loop that runs many similar steps (training) reports each step's work to the governor.
// The governor times windows of steps: it runs on the current count, now and then tries the next
// candidate below or above it (halving or doubling, within 1 .. max_threads) for one window, and
// moves there when that window ran at least 5% faster per unit of work. A window is at least 2 s
// and 8 steps, so sentence-length noise averages out. The first trial comes after the first
// window, the next after 4 windows (~8 s); each failed one doubles the wait (up to ~4 min), so a settled run spends under 1%
// of its time on trials; a window 25% slower than the count's usual speed (another process has
// started) brings the next trial forward at once. A trial of more threads is skipped while other
// processes' runnable tasks would take the extra cores (/proc/stat procs_running).
#pragma once
#include <functional>

namespace memsig {

class ThreadGovernor {
 public:
  // enabled = false: does nothing (the user fixed --threads). max_threads: the most it will use.
  // now: seconds on a monotonic clock (a test may pass its own).
  ThreadGovernor(bool enabled, int max_threads, std::function<double()> now = nullptr);
  // After each step: `work` units done (characters, targets) in that step.
  void step_done(double work);
  int threads() const { return current_; }

 private:
  void begin_window(int threads);
  bool probe_load_;
  std::function<double()> now_;
  bool enabled_;
  int max_, current_, trying_ = 0;  // trying_: the count on trial this window (0 = none)
  int windows_since_trial_ = 0, wait_windows_ = 0;
  bool try_lower_next_ = true;
  double work_ = 0, base_rate_ = 0;  // base_rate_: work/s of the last window on current_
  double usual_rate_ = 0;            // its running average on current_ (windows outside trials)
  int steps_ = 0;
  double start_ = 0;
};

}  // namespace memsig
