#include "warmup_watch.h"

#include <algorithm>
#include <limits>

#include "clock.h"
#include "stream_runner.h"

namespace pinbench {

WarmupProgress warmup_progress(const RunControl& control, const StreamWatch* watches, int streams,
                               int64_t now) {
  WarmupProgress p;
  const int64_t start = control.start.release_ns();
  if (start == 0 || control.stop.load(std::memory_order_relaxed)) return p;
  p.fewest = std::numeric_limits<int64_t>::max();
  for (int i = 0; i < streams; ++i) {
    const StreamWatch& w = watches[i];
    const auto phase = static_cast<Phase>(w.phase.load(std::memory_order_acquire));
    if (phase == Phase::kMeasure) return WarmupProgress{};  // one left: the warmup is over
    // Released but not yet in its warmup (kFactory): no call finished yet.
    const int64_t done =
        phase == Phase::kWarmup ? std::max<int64_t>(0, w.iteration.load(std::memory_order_relaxed))
                                : 0;
    p.calls += done;
    p.fewest = std::min(p.fewest, done);
  }
  p.warming = true;
  p.elapsed_ns = now - start;
  return p;
}

void poll_warmup(RunControl& control, const StreamWatch* watches, int streams,
                 const WarmupWatch& watch) {
  if (!watch || control.warmup_cut.load(std::memory_order_relaxed) != kNoWarmupCut) return;
  const int64_t now = now_ns();
  const WarmupProgress p = warmup_progress(control, watches, streams, now);
  if (p.warming && watch(p.elapsed_ns, p.calls, p.fewest)) control.end_warmup(now);
}

}  // namespace pinbench
