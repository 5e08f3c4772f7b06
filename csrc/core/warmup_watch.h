// Auto warmup (-w auto): the supervisor watches the streams warm up and may end every stream's
// warmup at once, before RunnerConfig::warmup_s (then only the bound).
//
// The streams publish nothing new for it: each already stores the index of its step in flight
// in its StreamWatch (a relaxed store per iteration), which is the count of warmup calls it has
// finished. The supervisor (the caller's thread, or the parent process with process isolation)
// sums them at each poll and asks a WarmupWatch, which decides; "stop now" moves the run's
// warmup cut (RunControl::end_warmup), which each stream reads between units.
#pragma once

#include <cstdint>
#include <functional>

#include "run_control.h"

namespace pinbench {

// Called by the supervisor at each poll while every stream warms up: `elapsed_ns` since the
// warmup began, `calls` finished so far across streams, `fewest` by any one stream. True ends the
// warmup of every stream now (each finishes its unit in flight); it is not called again after.
using WarmupWatch = std::function<bool(int64_t elapsed_ns, int64_t calls, int64_t fewest)>;

// What the streams of a run have done of their warmup, read by their supervisor.
struct WarmupProgress {
  bool warming = false;  // the warmup began and no stream has left it yet
  int64_t elapsed_ns = 0;
  int64_t calls = 0;
  int64_t fewest = 0;
};

// REQUIRES: `watches` holds `streams` entries, published by the streams of `control`'s run.
WarmupProgress warmup_progress(const RunControl& control, const StreamWatch* watches, int streams,
                               int64_t now_ns);

// Called by the supervisor at each poll: while the streams warm up and the warmup was not cut
// yet, asks `watch` and cuts it when it says so. Exceptions from `watch` pass through.
void poll_warmup(RunControl& control, const StreamWatch* watches, int streams,
                 const WarmupWatch& watch);

}  // namespace pinbench
