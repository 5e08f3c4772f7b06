// What a measured window produced: per stream, the samples, exact latency totals, warmup count,
// affinity read back and counters; for the run, the failures, the window's bounds and the open
// loop's arrivals. One shape for the thread runner (run_streams, stream_runner.h) and the process
// runner (run_processes, process_runner.h), which fills its workers' exits besides.
//
// Memory: 16 bytes per stored iteration (start and end, int64 ns), 24 in the open loop (plus the
// scheduled arrival). RunnerConfig::max_samples caps what each stream stores: past the cap a
// uniform reservoir sample is kept, while the totals and the window stay exact.
#pragma once

#include <cstdint>
#include <exception>
#include <string>
#include <vector>

#include "counters.h"

namespace pinbench {

// kStart: a worker process (process isolation) that has not reached its stream loop yet.
enum class Phase { kPin, kFactory, kWarmup, kMeasure, kStart };
const char* phase_name(Phase phase);

struct StreamFailure {
  int stream = -1;
  Phase phase = Phase::kPin;
  int64_t iteration = -1;  // 0-based within its phase; -1 for pin, factory and start
  std::exception_ptr error;
  std::string message;     // what() of the error when it is a std::exception
  bool timed_out = false;  // the step ran past iteration_timeout_s; its thread was abandoned
};

// The failure of `stream` at `iteration` of `phase` (-1 outside warmup and measure); its message
// is what() of `error` when that is a std::exception.
StreamFailure make_failure(int stream, Phase phase, int64_t iteration, std::exception_ptr error,
                           bool timed_out = false);

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
  int pid = 0;                     // the process that ran the stream (a worker's, when isolated)
  bool abandoned = false;          // its step never returned; the thread (or worker) was left
                                   // behind (or killed)
  int64_t step_wait_ns = 0;        // measured phase: time the step waited inside the timed region
                                   // before its work began (PyStep: for the GIL); see step.h;
                                   // -1 when the step did not measure it
  std::vector<CounterReading> counters;  // over the stream's measured window (counters.h);
                                         // empty when none were asked for or it never got there
};

// How one worker process of a process-isolated run ended.
struct WorkerExit {
  int pid = 0;              // 0 when it could not be spawned
  bool reported = false;    // it marked itself done: its results are complete
  int exit_code = -1;       // its exit status, when it exited; else -1
  int signal = 0;           // the signal that ended it, else 0
  bool killed = false;      // the supervisor killed it (iteration timeout, a second stop)
};

struct RunResult {
  std::vector<StreamSamples> streams;   // one per stream of the config
  std::vector<StreamFailure> failures;  // in the order they happened
  int first_failure = -1;               // the stream whose failure stopped the run, -1 none
  bool interrupted = false;             // should_stop() asked for the stop
  int64_t warmup_start_ns = 0;          // 0 when the run never got there
  int64_t measure_start_ns = 0;
  int64_t deadline_ns = 0;              // INT64_MAX when there was no time limit
  int64_t arrivals_issued = 0;          // open loop: arrivals taken by a stream
  int64_t arrivals_dropped = 0;         // open loop: scheduled before the deadline, never served
  // Process isolation (run_processes): one per stream; empty for thread streams. The supervisor
  // fills each stream's pid and abandoned (killed) only: the samples are the workers' own
  // (run_stream_in_region), which the caller collects.
  std::vector<WorkerExit> workers;
};

}  // namespace pinbench
