#include "engine/thread_governor.h"

#include <algorithm>
#include <chrono>

#include "engine/kernels.h"

namespace memsig {

namespace {
constexpr double kWindowSeconds = 2.0;   // a window: at least this long ...
constexpr int kWindowSteps = 8;          // ... and this many steps
constexpr int kWindowsBetweenTrials = 9; // ~20 s on the current count between trials
constexpr double kBetter = 1.05;         // a trial must be 5% faster to be adopted
}  // namespace

ThreadGovernor::ThreadGovernor(bool enabled, int max_threads, std::function<double()> now)
    : now_(now ? std::move(now) : [] {
        return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
      }),
      enabled_(enabled && max_threads > 1), max_(std::max(1, max_threads)), current_(get_threads()) {
  current_ = std::clamp(current_, 1, max_);
  windows_since_trial_ = kWindowsBetweenTrials - 1;  // the first trial right after the first window
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
      ++switches_;
    }
    trying_ = 0;
    windows_since_trial_ = 0;
    begin_window(current_);
    return;
  }
  base_rate_ = rate;
  if (++windows_since_trial_ >= kWindowsBetweenTrials) {
    // The neighbour to try: alternately fewer and more threads, where there is room.
    const int lower = std::max(1, current_ / 2), higher = std::min(max_, current_ * 2);
    int candidate = try_lower_next_ ? lower : higher;
    if (candidate == current_) candidate = try_lower_next_ ? higher : lower;
    try_lower_next_ = !try_lower_next_;
    if (candidate != current_) {
      trying_ = candidate;
      begin_window(candidate);
      return;
    }
  }
  begin_window(current_);
}

}  // namespace memsig
