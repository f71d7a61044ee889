#include "engine/thread_governor.h"

#include <algorithm>
#include <chrono>

#include "engine/kernels.h"

namespace memsig {

namespace {
constexpr double kWindowSeconds = 2.0;   // a window: at least this long ...
constexpr int kWindowSteps = 8;          // ... and this many steps
constexpr int kWindowsBetweenTrials = 4; // windows on the current count between trials (~8 s), to start with
constexpr int kMaxWindowsBetweenTrials = 128;  // each failed trial doubles the wait, up to ~4 min
constexpr double kBetter = 1.05;         // a trial must be 5% faster to be adopted
constexpr double kSlowdown = 0.75;       // a window this much slower than usual prompts a trial
}  // namespace

ThreadGovernor::ThreadGovernor(bool enabled, int max_threads, std::function<double()> now)
    : probe_load_(!now),  // a test's clock comes with its own world: no look at the real machine
      now_(now ? std::move(now) : [] {
        return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
      }),
      enabled_(enabled && max_threads > 1), max_(std::max(1, max_threads)), current_(get_threads()) {
  current_ = std::clamp(current_, 1, max_);
  wait_windows_ = kWindowsBetweenTrials;
  windows_since_trial_ = wait_windows_ - 1;  // the first trial after the first window
  if (enabled_) begin_window(current_);
}

void ThreadGovernor::begin_window(int threads) {
  if (threads != get_threads()) set_adapted_threads(threads);
  work_ = 0;
  steps_ = 0;
  start_ = now_();
}

void ThreadGovernor::step_done(double work) {
  if (!enabled_) return;
  work_ += work;
  ++steps_;
  const double secs = now_() - start_;
  if (secs < kWindowSeconds || steps_ < kWindowSteps) return;
  const double rate = work_ / secs;
  if (trying_) {  // a trial window ended: adopt it if clearly faster
    if (rate > kBetter * base_rate_) {
      current_ = trying_;
      base_rate_ = rate;
      wait_windows_ = kWindowsBetweenTrials;  // conditions changed: look again soon
      usual_rate_ = rate;
    } else {
      wait_windows_ = std::min(2 * wait_windows_, kMaxWindowsBetweenTrials);  // a trial costs: back off
    }
    trying_ = 0;
    windows_since_trial_ = 0;
    begin_window(current_);
    return;
  }
  base_rate_ = rate;
  // A window much slower than the count's usual speed: something changed (another process
  // started); try the neighbour at once instead of waiting out the back-off.
  if (usual_rate_ > 0 && rate < kSlowdown * usual_rate_) windows_since_trial_ = wait_windows_;
  usual_rate_ = usual_rate_ > 0 ? 0.8 * usual_rate_ + 0.2 * rate : rate;
  if (++windows_since_trial_ >= wait_windows_) {
    // The neighbour to try: alternately fewer and more threads, where there is room.
    const int lower = std::max(1, current_ / 2), higher = std::min(max_, current_ * 2);
    int candidate = try_lower_next_ ? lower : higher;
    if (candidate == current_) candidate = try_lower_next_ ? higher : lower;
    try_lower_next_ = !try_lower_next_;
    // More threads only where cores are free now: other processes' runnable tasks (beyond our
    // own threads) would take them, and a trial there costs half a window's work.
    if (candidate > current_ && probe_load_ && runnable_tasks() - current_ >= candidate - current_) {
      wait_windows_ = std::min(2 * wait_windows_, kMaxWindowsBetweenTrials);
      windows_since_trial_ = 0;
      candidate = current_;
    }
    if (candidate != current_) {
      trying_ = candidate;
      begin_window(candidate);
      return;
    }
  }
  begin_window(current_);
}

}  // namespace memsig
