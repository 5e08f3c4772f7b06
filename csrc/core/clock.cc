#include "clock.h"

#include <time.h>

#include <algorithm>
#include <limits>

namespace pinbench {

ClockProbe probe_clock(int64_t samples) {
  if (samples < 2) samples = 2;
  int64_t min_step = std::numeric_limits<int64_t>::max();
  const int64_t begin = now_ns();
  int64_t prev = begin;
  for (int64_t i = 1; i < samples; ++i) {
    const int64_t t = now_ns();
    if (t > prev) min_step = std::min(min_step, t - prev);
    prev = t;
  }
  ClockProbe p{};
  p.samples = samples;
  p.overhead_ns = static_cast<double>(prev - begin) / static_cast<double>(samples - 1);
  p.resolution_ns = min_step == std::numeric_limits<int64_t>::max() ? 0 : min_step;
  timespec res{};
  p.period_ns = clock_getres(CLOCK_MONOTONIC, &res) == 0
                    ? static_cast<int64_t>(res.tv_sec) * 1000000000 + res.tv_nsec
                    : 0;
  return p;
}

}  // namespace pinbench
