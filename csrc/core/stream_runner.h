// The stream runner: N native threads, each pinned, each running its step in a closed loop
// through a warmup and a measured phase that all streams start together.
//
// Per stream thread, in order: pin; enter_thread; make_step; start barrier; warmup until the
// warmup deadline; reserve the sample buffers; measure barrier; measure while now() < deadline
// (the iteration in flight at the deadline finishes and is kept); destroy the step; leave_thread.
// A failure anywhere stops every stream and breaks the barriers; nothing escapes a thread.
#pragma once

#include <cstdint>
#include <exception>
#include <functional>
#include <string>
#include <vector>

#include "step.h"

namespace pinbench {

// How iterations are issued. Only the closed loop exists today: each stream starts its next
// iteration when the previous one ends. An open loop (arrivals scheduled ahead of time and queued
// for the streams, latency counted from the scheduled arrival) fits beside it as another mode with
// its own measure loop; the phases, barriers and error handling stay as they are.
enum class LoopMode { kClosed };

struct RunnerConfig {
  std::vector<std::vector<int>> stream_cpus;  // one entry per stream; an empty set = not pinned
  double warmup_s = 0.0;        // >= 0; warmup iterations are run and counted, not recorded
  double duration_s = 1.0;      // > 0, or <= 0 for no time limit (then max_iterations > 0)
  int64_t max_iterations = 0;   // measured iterations per stream; 0 = no cap
  double poll_interval_s = 0.02;  // how often the calling thread asks should_stop()
  LoopMode mode = LoopMode::kClosed;
};

enum class Phase { kPin, kFactory, kWarmup, kMeasure };
const char* phase_name(Phase phase);

struct StreamFailure {
  int stream = -1;
  Phase phase = Phase::kPin;
  int64_t iteration = -1;  // 0-based within its phase; -1 for pin and factory
  std::exception_ptr error;
  std::string message;     // what() of the error when it is a std::exception
};

struct StreamSamples {
  std::vector<int64_t> starts;  // steady-clock ns at which each measured iteration started
  std::vector<int64_t> ends;    // ... and ended; same length as starts
  int64_t warmup_iterations = 0;
  std::vector<int> cpus;        // the thread's affinity read back after pinning
  long thread_id = 0;           // the kernel's id of the stream thread (gettid)
};

struct RunResult {
  std::vector<StreamSamples> streams;
  std::vector<StreamFailure> failures;  // in the order they happened; the first one stopped the run
  bool interrupted = false;             // should_stop() asked for the stop
  int64_t warmup_start_ns = 0;          // 0 when the run never got there
  int64_t measure_start_ns = 0;
  int64_t deadline_ns = 0;              // INT64_MAX when there was no time limit
};

// Validates `config` (throws std::invalid_argument) before any thread starts, then runs.
// Called on the caller's thread, which only waits: every poll_interval_s it calls `should_stop`
// (e.g. to look for Ctrl-C); returning true stops the streams promptly and marks the result
// interrupted. Returns after every stream thread has been joined.
RunResult run_streams(const RunnerConfig& config, StepFactory& factory,
                      const std::function<bool()>& should_stop);

}  // namespace pinbench
