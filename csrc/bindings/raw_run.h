// What a run hands back to Python (RawRun), shared by the thread runner's binding
// (bind_runner.cc) and the worker processes' (bind_isolation.cc).
#pragma once

#include <pybind11/pybind11.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <vector>

#include "../core/step.h"
#include "../core/stream_runner.h"

namespace pinbench::bindings {

// Plain attributes, arrays owned by numpy.
struct RawRun {
  pybind11::list starts, ends, scheduled;  // per stream: int64 ns arrays (scheduled empty when closed)
  pybind11::list totals;  // per stream: (count, sum_ns, sum_sq_ns, min_ns, max_ns, first_ns, last_ns)
  std::vector<int64_t> warmup_iterations;
  std::vector<std::vector<int>> cpus;
  std::vector<long> thread_ids;
  std::vector<bool> abandoned;
  std::vector<int64_t> step_wait_ns;  // per stream: StreamSamples::step_wait_ns (-1: not timed)
  pybind11::list counters;            // per stream: a list of CounterReading tuples
  pybind11::list failures;            // (stream, phase, iteration, exception)
  bool interrupted = false;
  pybind11::object interrupt;         // the exception a signal handler raised, or None
  int64_t warmup_start_ns = 0, measure_start_ns = 0, deadline_ns = 0;
  int64_t arrivals_issued = 0, arrivals_dropped = 0;
};

// REQUIRES: the GIL. Converts a finished run; `interrupt` is what signal_checker caught.
RawRun to_raw(RunResult&& result, pybind11::object interrupt);

// The runner's factory for `work`: a NativeWork as it is, else a Python make_step(i) whose steps
// time their GIL waits when `time_gil_waits` (other streams share this interpreter).
// REQUIRES: the GIL.
std::shared_ptr<StepFactory> step_factory(pybind11::object work, int streams, bool time_gil_waits);

// should_stop for a runner: checks Python's signals (taking the GIL); a handler's exception is
// kept in `interrupt` (which must outlive the run) and stops the run.
std::function<bool()> signal_checker(pybind11::object& interrupt);

// The runner's WarmupWatch for a Python `watch(elapsed_ns, calls, fewest) -> bool` (taking the
// GIL); none for None. `watch` must outlive the run.
WarmupWatch warmup_watch(const pybind11::object& watch);

}  // namespace pinbench::bindings
