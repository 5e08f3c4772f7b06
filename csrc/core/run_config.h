// What one run is asked to do (RunnerConfig), and the checks it must pass before any thread or
// worker process starts (check_config). Shared by the thread runner and the process runner.
#pragma once

#include <cmath>
#include <cstdint>
#include <vector>

#include "clock.h"  // kMaxSeconds: the longest time any field of RunnerConfig may hold
#include "counters.h"

namespace pinbench {

// How iterations are issued.
//  kClosed: each stream starts its next iteration when the previous one ends.
//  kOpen:   arrivals are scheduled ahead of time (RunnerConfig::arrivals_ns) and served in order
//           by whichever stream is free, as a queue with N servers; latency is counted from the
//           scheduled arrival, so time spent queued counts.
enum class LoopMode { kClosed, kOpen };

struct RunnerConfig {
  std::vector<std::vector<int>> stream_cpus;  // one entry per stream; an empty set = not pinned
  double warmup_s = 0.0;        // >= 0; warmup iterations are run and counted, not recorded;
                                // with a WarmupWatch (auto warmup), the bound
  double duration_s = 1.0;      // > 0, or <= 0 for no time limit (then max_iterations > 0)
  int64_t max_iterations = 0;   // closed loop: measured iterations per stream; 0 = no cap
  int64_t max_samples = 0;      // stored samples per stream; 0 = every one
  // Iterations come in units of this many calls (a generation request: the prefill, then one
  // call per new token). The warmup and the window end only between units, so a request in
  // flight is finished, never cut; every call is still its own sample, and the reservoir keeps
  // or drops whole units. max_samples and max_iterations are multiples of it. In the open loop
  // an arrival is one unit: its first call's latency counts from the arrival, the others' from
  // their own start.
  int64_t calls_per_unit = 1;
  double iteration_timeout_s = 0.0;  // > 0: a step running longer ends the run as a failure
  double poll_interval_s = 0.02;     // how often the calling thread checks on the streams
  LoopMode mode = LoopMode::kClosed;
  std::vector<int64_t> arrivals_ns;  // open loop: ascending offsets from the measure start
  double drain_s = 0.0;         // open loop: after the deadline, serve the backlog this long at most
  uint64_t seed = 0;            // for the reservoir
  CounterSet counters = CounterSet::kOff;  // opened on each stream thread (counters.h)
};

// Throws std::invalid_argument when `config` cannot run. Both runners call it first.
void check_config(const RunnerConfig& config);

// REQUIRES: |s| <= kMaxSeconds (check_config sees to it), so the result and any deadline built
// from it stay far inside int64 ns.
inline int64_t seconds_to_ns(double s) { return static_cast<int64_t>(std::llround(s * 1e9)); }

// Open loop: the arrivals scheduled before the deadline that no stream took (0 before the
// window opened, or in the closed loop).
int64_t arrivals_dropped(const RunnerConfig& config, int64_t measure_start_ns, int64_t issued);

}  // namespace pinbench
