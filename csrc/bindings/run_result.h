// RunResult (csrc/core/run_result.h) as Python reads it, bound once as _core.RunResult and handed
// back by run_streams, run_worker and run_processes alike: per-stream columns (the sample arrays
// owned by numpy, without a copy), failures with their Python exceptions, the window's bounds.
#pragma once

#include <pybind11/pybind11.h>

#include <cstdint>
#include <vector>

#include "../core/run_result.h"

namespace pinbench::bindings {

// Plain attributes. Writable: process isolation fills each stream's columns from what its worker
// sent (python/pinbench/run/isolation.py).
struct PyRunResult {
  pybind11::list starts, ends, scheduled;  // per stream: int64 ns arrays (scheduled empty when closed)
  pybind11::list totals;  // per stream: (count, sum_ns, sum_sq_ns, min_ns, max_ns, first_ns, last_ns)
  std::vector<int64_t> warmup_iterations;
  std::vector<std::vector<int>> cpus;
  std::vector<long> thread_ids;
  std::vector<int> pids;
  std::vector<bool> abandoned;
  std::vector<int64_t> step_wait_ns;  // per stream: StreamSamples::step_wait_ns (-1: not timed)
  pybind11::list counters;            // per stream: a list of CounterReading tuples
  pybind11::list failures;            // (stream, phase, iteration, exception)
  int first_failure = -1;
  bool interrupted = false;
  pybind11::object interrupt;         // the exception a signal handler raised, or None
  int64_t warmup_start_ns = 0, measure_start_ns = 0, deadline_ns = 0;
  int64_t arrivals_issued = 0, arrivals_dropped = 0;
  pybind11::list workers;             // process isolation: (pid, reported, exit_code, signal, killed)
};

// REQUIRES: the GIL. Converts a finished run; `interrupt` is what SignalWatch caught.
PyRunResult to_python(RunResult&& result, pybind11::object interrupt);

}  // namespace pinbench::bindings
