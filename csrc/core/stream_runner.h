// The stream runner: N native threads, each pinned, each running its step through a warmup and a
// measured phase that all streams start together.
//
// Per stream thread, in order: pin; enter_thread; make_step; start barrier; warmup until the
// warmup deadline; reserve the sample buffers; measure barrier; measure (closed or open loop);
// destroy the step; leave_thread. A failure anywhere stops every stream and breaks the barriers;
// nothing escapes a thread.
//
// Memory: 16 bytes per stored iteration (start and end, int64 ns), 24 in the open loop (plus the
// scheduled arrival). `max_samples` caps what each stream stores: past the cap a uniform
// reservoir sample is kept, while count, sum, sum of squares, min and max of the latency and the
// window stay exact.
#pragma once

#include <cstdint>
#include <exception>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "counters.h"
#include "clock.h"  // kMaxSeconds: the longest time any field of RunnerConfig may hold
#include "step.h"
#include "warmup_watch.h"

namespace pinbench {

class SharedRegion;

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

// kStart: a worker process (process isolation) that has not reached its stream loop yet.
enum class Phase { kPin, kFactory, kWarmup, kMeasure, kStart };
const char* phase_name(Phase phase);

struct StreamFailure {
  int stream = -1;
  Phase phase = Phase::kPin;
  int64_t iteration = -1;  // 0-based within its phase; -1 for pin and factory
  std::exception_ptr error;
  std::string message;     // what() of the error when it is a std::exception
  bool timed_out = false;  // the step ran past iteration_timeout_s; its thread was abandoned
};

// Exact running figures of one stream's measured latencies (end - start, or end - scheduled).
struct LatencyTotals {
  int64_t count = 0;
  int64_t sum_ns = 0;
  double sum_sq_ns = 0.0;
  int64_t min_ns = 0;
  int64_t max_ns = 0;
  int64_t first_start_ns = 0;  // window contribution: first start (or arrival) ...
  int64_t last_end_ns = 0;     // ... and last end
};

struct StreamSamples {
  std::vector<int64_t> starts;     // steady-clock ns at which each stored iteration started
  std::vector<int64_t> ends;       // ... and ended; same length as starts
  std::vector<int64_t> scheduled;  // open loop: the arrival each served; else empty
  LatencyTotals totals;            // over every measured iteration, stored or not
  int64_t warmup_iterations = 0;
  std::vector<int> cpus;           // the thread's affinity read back after pinning
  long thread_id = 0;              // the kernel's id of the stream thread (gettid)
  bool abandoned = false;          // its step never returned; the thread was left behind
  int64_t step_wait_ns = 0;        // measured phase: time the step waited inside the timed region
                                   // before its work began (PyStep: for the GIL); see step.h;
                                   // -1 when the step did not measure it
  std::vector<CounterReading> counters;  // over the stream's measured window (counters.h);
                                         // empty when none were asked for or it never got there
};

struct RunResult {
  std::vector<StreamSamples> streams;
  std::vector<StreamFailure> failures;  // in the order they happened; the first one stopped the run
  bool interrupted = false;             // should_stop() asked for the stop
  int64_t warmup_start_ns = 0;          // 0 when the run never got there
  int64_t measure_start_ns = 0;
  int64_t deadline_ns = 0;              // INT64_MAX when there was no time limit
  int64_t arrivals_issued = 0;          // open loop: arrivals taken by a stream
  int64_t arrivals_dropped = 0;         // open loop: scheduled before the deadline, never served
};

// Validates `config` (throws std::invalid_argument) before any thread starts, then runs.
// Called on the caller's thread, which only waits: every poll_interval_s it checks the streams
// for steps past the iteration timeout and calls `should_stop` (e.g. to look for Ctrl-C);
// returning true stops the streams promptly and marks the result interrupted. Returns once every
// stream thread has been joined, except threads whose step never returned: those are detached
// and counted as stragglers (stragglers.h) until they end (they keep the shared state alive
// and touch nothing else when their step finally returns). Whoever ends the process waits for
// them first (wait_for_stragglers). `warmup_watch` (auto warmup, warmup_watch.h), when given, is
// asked at each poll while the streams warm up and may end their warmup before warmup_s.
// `on_measure`, when given, is called once on the caller's thread, at its first poll that finds
// the measured window open (within poll_interval_s of its start), before that poll's
// should_stop: a signal to the run then can no longer be mistaken for one before the window.
RunResult run_streams(const RunnerConfig& config, std::shared_ptr<StepFactory> factory,
                      const std::function<bool()>& should_stop,
                      const WarmupWatch& warmup_watch = {},
                      const std::function<void()>& on_measure = nullptr);

// Process isolation: runs stream `stream` of `config` alone, in the calling process, as one of
// the streams of `region` (the others run in other processes, each calling this): it meets them
// at the region's barriers, serves the region's arrival queue, stops on its stop flag, and
// publishes its phase, iteration and step in flight in the region's watch, for the supervisor
// (process_runner.h), which polices the iteration timeout itself: a process can be ended, where
// a thread can only be left behind (config.iteration_timeout_s is ignored here). The result has
// one entry per stream of `config`, only `stream`'s filled; its window fields are those this
// process saw (the supervisor reads the run's from the region).
RunResult run_stream_in_region(const RunnerConfig& config, std::shared_ptr<StepFactory> factory,
                               SharedRegion& region, int stream);

// Throws std::invalid_argument when `config` cannot run: the checks run_streams makes first.
void check_config(const RunnerConfig& config);

}  // namespace pinbench
