// Process isolation: the shared region, the supervisor, and the worker's side of a run.
#include <pybind11/stl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "../core/process_runner.h"
#include "../core/shared_region.h"
#include "../core/stream_runner.h"
#include "../core/warmup_watch.h"
#include "bindings.h"
#include "run_hooks.h"
#include "run_result.h"
#include "signal_watch.h"

namespace py = pybind11;

namespace pinbench::bindings {
namespace {

PyRunResult supervise(const RunnerConfig& config, SharedRegion& region,
                     const std::vector<std::vector<std::string>>& argvs,
                     const std::vector<std::string>& logs, py::object on_measure,
                     const py::object& watch) {
  if (argvs.size() != logs.size()) throw py::value_error("one log file per worker");
  std::vector<WorkerSpec> specs;
  for (size_t i = 0; i < argvs.size(); ++i) specs.push_back({argvs[i], logs[i]});
  py::object interrupt;
  SignalWatch signals(interrupt);
  // Every poll: the signals, and once the workers' measured window has begun, on_measure().
  bool announced = on_measure.is_none();
  const WarmupWatch warmup = warmup_watch(watch);
  auto should_stop = [&]() {
    poll_warmup(region.control(), region.watches(), region.streams(), warmup);
    if (!announced && region.control().measure.released()) {
      announced = true;
      py::gil_scoped_acquire gil;
      on_measure();
    }
    return signals();
  };
  RunResult result;
  {
    py::gil_scoped_release release;
    result = run_processes(config, region, specs, should_stop);
  }
  return to_python(std::move(result), interrupt);
}

PyRunResult run_worker(py::object work, const RunnerConfig& config, SharedRegion& region, int stream) {
  // The worker's one Python stream has its interpreter's GIL to itself: nothing to time.
  auto factory = step_factory(work, static_cast<int>(config.stream_cpus.size()), false);
  RunResult result;
  {
    py::gil_scoped_release release;
    result = run_stream_in_region(config, std::move(factory), region, stream);
  }
  return to_python(std::move(result), py::none());
}

// The worker dies with its parent: SIGKILL when the thread that spawned it ends. False when the
// parent is already gone (then the worker should exit at once).
bool die_with_parent(int parent_pid) {
  if (::prctl(PR_SET_PDEATHSIG, SIGKILL) != 0) return false;
  return ::getppid() == parent_pid;
}

}  // namespace

void bind_isolation(py::module_& m) {
  py::class_<SharedRegion, std::shared_ptr<SharedRegion>>(
      m, "SharedRegion",
      "The shared memory of one process-isolated run: barriers, stop flag, arrival queue, and "
      "each stream's published phase and iteration (see csrc/core/shared_region.h).")
      .def_static(
          "create", [](int streams) { return std::shared_ptr<SharedRegion>(SharedRegion::create(streams)); },
          py::arg("streams"), "A fresh region (an anonymous memfd) for `streams` streams.")
      .def_static(
          "attach", [](int fd) { return std::shared_ptr<SharedRegion>(SharedRegion::attach(fd)); },
          py::arg("fd"), "Maps the region behind descriptor `fd` (a worker's kWorkerRegionFd).")
      .def_property_readonly("fd", &SharedRegion::fd)
      .def_property_readonly("streams", &SharedRegion::streams)
      .def("request_stop", [](SharedRegion& r) { r.control().request_stop(); },
           "Stops every stream and breaks the barriers.")
      .def(
          "fail",
          [](SharedRegion& r, int stream) {
            int none = -1;
            r.control().first_failure.compare_exchange_strong(none, stream);
            r.control().request_stop();
          },
          py::arg("stream"), "Records `stream` as failed (if none failed before) and stops all.")
      .def(
          "mark_done",
          [](SharedRegion& r, int stream) {
            r.slot(stream).state.store(static_cast<int>(WorkerState::kDone),
                                       std::memory_order_release);
          },
          py::arg("stream"), "The worker of `stream` says its result is complete.")
      .def(
          "phase",
          [](SharedRegion& r, int stream) {
            return std::string(phase_name(static_cast<Phase>(r.watches()[stream].phase.load())));
          },
          py::arg("stream"))
      .def(
          "iteration", [](SharedRegion& r, int stream) { return r.watches()[stream].iteration.load(); },
          py::arg("stream"));
  m.def("run_processes", &supervise, py::arg("config"), py::arg("region"), py::arg("argvs"),
        py::arg("logs"), py::arg("on_measure") = py::none(), py::arg("warmup_watch") = py::none(),
        "Spawns one worker per stream (argvs[i], output to logs[i]), each pinned from birth, and "
        "supervises them until every one has ended; on_measure() is called once the measured "
        "window has begun; warmup_watch as run_streams takes it, asked of the workers' progress in "
        "the region.");
  m.def("run_worker", &run_worker, py::arg("work"), py::arg("config"), py::arg("region"),
        py::arg("stream"),
        "In a worker process: runs stream `stream` of the region's run with `work` (a NativeWork "
        "or make_step(i)); the RunResult has one entry per stream, only `stream`'s filled.");
  m.def("die_with_parent", &die_with_parent, py::arg("parent_pid"),
        "In a worker process: SIGKILL when the parent's spawning thread ends; False when the "
        "parent is already gone.");
  m.attr("WORKER_REGION_FD") = kWorkerRegionFd;
}

}  // namespace pinbench::bindings
