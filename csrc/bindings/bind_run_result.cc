// _core.RunResult: what run_streams, run_worker and run_processes hand back.
#include <pybind11/numpy.h>
#include <pybind11/stl.h>

#include <memory>
#include <utility>

#include "bindings.h"
#include "run_result.h"

namespace py = pybind11;

namespace pinbench::bindings {
namespace {

// Hands a vector to numpy without copying: the array's base owns it.
py::array_t<int64_t> to_numpy(std::vector<int64_t>&& v) {
  auto owned = std::make_unique<std::vector<int64_t>>(std::move(v));
  std::vector<int64_t>* raw = owned.get();
  py::capsule base(owned.release(), [](void* p) { delete static_cast<std::vector<int64_t>*>(p); });
  return py::array_t<int64_t>({static_cast<py::ssize_t>(raw->size())}, {sizeof(int64_t)}, raw->data(),
                              base);
}

// The Python exception behind a stream failure: the original object for Python errors,
// TimeoutError for a step past the iteration timeout, RuntimeError carrying what() otherwise.
py::object failure_exception(const StreamFailure& f) {
  const py::module_ builtins = py::module_::import("builtins");
  if (f.timed_out) return builtins.attr("TimeoutError")(f.message);
  try {
    if (f.error) std::rethrow_exception(f.error);
  } catch (py::error_already_set& e) {
    py::object value = e.value();
    if (e.trace() && PyException_GetTraceback(value.ptr()) == nullptr)
      PyException_SetTraceback(value.ptr(), e.trace().ptr());
    return value;
  } catch (const std::exception& e) {
    return builtins.attr("RuntimeError")(e.what());
  } catch (...) {
  }
  return builtins.attr("RuntimeError")(f.message);
}

void add_stream(PyRunResult& out, StreamSamples&& s) {
  out.starts.append(to_numpy(std::move(s.starts)));
  out.ends.append(to_numpy(std::move(s.ends)));
  out.scheduled.append(to_numpy(std::move(s.scheduled)));
  const LatencyTotals& t = s.totals;
  out.totals.append(py::make_tuple(t.count, t.sum_ns, t.sum_sq_ns, t.min_ns, t.max_ns,
                                   t.first_start_ns, t.last_end_ns));
  out.warmup_iterations.push_back(s.warmup_iterations);
  out.cpus.push_back(std::move(s.cpus));
  out.thread_ids.push_back(s.thread_id);
  out.pids.push_back(s.pid);
  out.abandoned.push_back(s.abandoned);
  out.step_wait_ns.push_back(s.step_wait_ns);
  py::list readings;
  for (const CounterReading& r : s.counters)
    readings.append(py::make_tuple(r.name, r.hardware, r.error, r.user_only, r.value,
                                   r.enabled_ns, r.running_ns));
  out.counters.append(readings);
}

}  // namespace

PyRunResult to_python(RunResult&& result, py::object interrupt) {
  PyRunResult out;
  for (auto& s : result.streams) add_stream(out, std::move(s));
  for (const auto& f : result.failures)
    out.failures.append(py::make_tuple(f.stream, phase_name(f.phase), f.iteration, failure_exception(f)));
  out.first_failure = result.first_failure;
  out.interrupted = result.interrupted;
  out.interrupt = interrupt;
  out.warmup_start_ns = result.warmup_start_ns;
  out.measure_start_ns = result.measure_start_ns;
  out.deadline_ns = result.deadline_ns;
  out.arrivals_issued = result.arrivals_issued;
  out.arrivals_dropped = result.arrivals_dropped;
  for (const auto& w : result.workers)
    out.workers.append(py::make_tuple(w.pid, w.reported, w.exit_code, w.signal, w.killed));
  return out;
}

void bind_run_result(py::module_& m) {
  py::class_<PyRunResult>(m, "RunResult",
                          "Everything one run measured, per stream (csrc/core/run_result.h); the "
                          "same for thread streams and worker processes.")
      .def_readwrite("starts", &PyRunResult::starts,
                     "per stream: int64 ns at which each stored iteration started")
      .def_readwrite("ends", &PyRunResult::ends, "per stream: int64 ns at which each stored iteration ended")
      .def_readwrite("scheduled", &PyRunResult::scheduled, "per stream: open loop arrivals served (else empty)")
      .def_readwrite("totals", &PyRunResult::totals,
                     "per stream: (count, sum_ns, sum_sq_ns, min_ns, max_ns, first_ns, last_ns) over "
                     "every measured iteration, stored or not")
      .def_readwrite("warmup_iterations", &PyRunResult::warmup_iterations)
      .def_readwrite("cpus", &PyRunResult::cpus, "per stream: its affinity, read back on the thread")
      .def_readwrite("thread_ids", &PyRunResult::thread_ids, "per stream: the kernel thread id")
      .def_readwrite("pids", &PyRunResult::pids, "per stream: the process that ran it")
      .def_readwrite("abandoned", &PyRunResult::abandoned,
                     "per stream: its step never returned (its worker process was killed)")
      .def_readwrite("step_wait_ns", &PyRunResult::step_wait_ns,
                     "per stream: ns its step waited inside the timed region before its work "
                     "began (a Python step: for the GIL), over the measured phase; -1: not timed "
                     "(a lone stream, a worker process)")
      .def_readwrite("counters", &PyRunResult::counters,
                     "per stream: (name, hardware, errno, user_only, value, enabled_ns, running_ns) "
                     "per event over its measured window; empty when counters were off")
      .def_readwrite("failures", &PyRunResult::failures,
                     "(stream, phase, iteration, exception), in the order they happened")
      .def_readonly("first_failure", &PyRunResult::first_failure,
                    "the stream whose failure stopped the run; -1: none")
      .def_readonly("interrupted", &PyRunResult::interrupted)
      .def_readonly("interrupt", &PyRunResult::interrupt)
      .def_readonly("warmup_start_ns", &PyRunResult::warmup_start_ns)
      .def_readonly("measure_start_ns", &PyRunResult::measure_start_ns)
      .def_readonly("deadline_ns", &PyRunResult::deadline_ns)
      .def_readonly("arrivals_issued", &PyRunResult::arrivals_issued)
      .def_readonly("arrivals_dropped", &PyRunResult::arrivals_dropped)
      .def_readonly("workers", &PyRunResult::workers,
                    "process isolation: (pid, reported, exit_code, signal, killed) per worker; "
                    "empty for thread streams");
}

}  // namespace pinbench::bindings
