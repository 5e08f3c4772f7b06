// The one clock of pinbench: std::chrono::steady_clock, read as int64 nanoseconds.
//
// Every timestamp the runner records comes from now_ns(); nothing else in the core reads a clock.
#pragma once

#include <chrono>
#include <cstdint>

namespace pinbench {

using Clock = std::chrono::steady_clock;
static_assert(Clock::is_steady, "pinbench needs a monotonic clock");

// Nanoseconds since the clock's epoch (boot on Linux). Thread-safe, allocation-free.
inline int64_t now_ns() noexcept {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now().time_since_epoch())
      .count();
}

// The longest span, in seconds (about 31.7 years), that pinbench adds to now_ns(): every
// deadline built that way (the runner's phases, the wait for stragglers) stays far inside int64.
constexpr double kMaxSeconds = 1e9;

struct ClockProbe {
  double overhead_ns;      // mean cost of one now_ns() call, back to back
  int64_t resolution_ns;   // smallest non-zero step seen between consecutive reads
  int64_t period_ns;       // the clock's nominal tick (clock_getres of CLOCK_MONOTONIC)
  int64_t samples;         // reads taken
};

// Reads the clock `samples` times back to back. Takes about samples * overhead_ns.
ClockProbe probe_clock(int64_t samples = 200000);

}  // namespace pinbench
