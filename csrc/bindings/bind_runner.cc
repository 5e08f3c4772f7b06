#include <pybind11/numpy.h>
#include <pybind11/stl.h>

#include <memory>
#include <optional>
#include <utility>

#include "../core/stragglers.h"
#include "../core/stream_runner.h"
#include "../core/work.h"
#include "bindings.h"
#include "py_step.h"
#include "run_hooks.h"
#include "run_result.h"
#include "signal_watch.h"

namespace py = pybind11;

namespace pinbench::bindings {

std::shared_ptr<StepFactory> step_factory(py::object work, int streams, bool time_gil_waits) {
  if (py::isinstance<NativeWorkFactory>(work)) return work.cast<std::shared_ptr<NativeWorkFactory>>();
  return std::make_shared<PyStepFactory>(work, streams, time_gil_waits);
}

WarmupWatch warmup_watch(const py::object& watch) {
  if (watch.is_none()) return {};
  return [&watch](int64_t elapsed_ns, int64_t calls, int64_t fewest) {
    py::gil_scoped_acquire gil;
    return watch(elapsed_ns, calls, fewest).cast<bool>();
  };
}

namespace {

PyRunResult run(py::object work, const RunnerConfig& config, const py::object& watch,
                py::object on_measure) {
  // A lone stream waits for nobody's GIL: it spares the clock read (the runner's overhead goal).
  const int streams = static_cast<int>(config.stream_cpus.size());
  auto factory = step_factory(work, streams, streams > 1);
  py::object interrupt;
  // Runs on this (the caller's) thread while it waits: the only place Python signal handlers can run.
  SignalWatch signals(interrupt);
  // A signal handler may run inside on_measure's Python code and raise there: that exception is
  // the interrupt, taken by the next should_stop, never lost and never thrown through the runner.
  bool stop_now = false;
  auto should_stop = [&]() { return stop_now || signals(); };
  std::function<void()> announce;
  if (!on_measure.is_none()) {
    announce = [&]() {
      py::gil_scoped_acquire gil;
      try {
        on_measure();
      } catch (py::error_already_set& e) {
        if (e.matches(PyExc_Exception)) {
          e.discard_as_unraisable("pinbench run_streams on_measure");
        } else {  // KeyboardInterrupt (or the CLI's Terminated): a signal
          interrupt = e.value();
          stop_now = true;
        }
      }
    };
  }
  RunResult result;
  {
    py::gil_scoped_release release;
    result = run_streams(config, std::move(factory), should_stop, warmup_watch(watch), announce);
  }
  return to_python(std::move(result), interrupt);
}

}  // namespace

void bind_runner(py::module_& m) {
  py::enum_<LoopMode>(m, "LoopMode", "How iterations are issued: closed (back to back) or open "
                                     "(arrivals scheduled ahead, served as a queue).")
      .value("closed", LoopMode::kClosed)
      .value("open", LoopMode::kOpen);
  py::class_<RunnerConfig>(m, "RunnerConfig", "Everything one run_streams call needs (see "
                                              "csrc/core/stream_runner.h for each field).")
      .def(py::init<>())
      .def_readwrite("stream_cpus", &RunnerConfig::stream_cpus,
                     "one CPU set per stream; an empty set = not pinned")
      .def_readwrite("warmup_s", &RunnerConfig::warmup_s)
      .def_readwrite("duration_s", &RunnerConfig::duration_s, "<= 0: no time limit")
      .def_readwrite("max_iterations", &RunnerConfig::max_iterations, "per stream; 0 = no cap")
      .def_readwrite("max_samples", &RunnerConfig::max_samples, "per stream; 0 = every one")
      .def_readwrite("calls_per_unit", &RunnerConfig::calls_per_unit,
                     "closed loop: calls that form one unit, never cut (a generation request)")
      .def_readwrite("iteration_timeout_s", &RunnerConfig::iteration_timeout_s, "0 = none")
      .def_readwrite("poll_interval_s", &RunnerConfig::poll_interval_s)
      .def_readwrite("mode", &RunnerConfig::mode)
      .def_property(
          "arrivals_ns",
          [](const RunnerConfig& c) {
            return py::array_t<int64_t>(static_cast<py::ssize_t>(c.arrivals_ns.size()),
                                        c.arrivals_ns.data());
          },
          [](RunnerConfig& c, py::array_t<int64_t, py::array::c_style | py::array::forcecast> a) {
            const auto v = a.unchecked<1>();
            c.arrivals_ns.assign(v.data(0), v.data(0) + v.shape(0));
          },
          "open loop: ascending int64 ns offsets from the measure start (a copy)")
      .def_readwrite("drain_s", &RunnerConfig::drain_s)
      .def_readwrite("seed", &RunnerConfig::seed)
      .def_property(
          "counters", [](const RunnerConfig& c) { return std::string(counter_set_name(c.counters)); },
          [](RunnerConfig& c, const std::string& name) { c.counters = counter_set_named(name); },
          "'off', 'software' or 'all': the counters each stream thread opens (csrc/core/counters.h)");
  m.attr("MAX_SECONDS") = kMaxSeconds;
  m.def("stragglers", &stragglers,
        "Stream threads left behind in a step past its iteration timeout, still running.");
  m.def("straggler_grace_s", &straggler_grace_s,
        "How long an exit waits for them: the longest timeout they overran, 1 to 10 s.");
  m.def(
      "wait_for_stragglers",
      [](std::optional<double> seconds) { return wait_for_stragglers(seconds.value_or(-1.0)); },
      py::arg("seconds") = py::none(), py::call_guard<py::gil_scoped_release>(),
      "Waits up to `seconds` (default: straggler_grace_s()) for every straggler to end, with the "
      "GIL released so that they can finish; True when none is left.");
  // The interpreter must not finalize while a straggler may still come back and ask for the GIL
  // (stragglers.h): atexit handlers run while it is still whole.
  py::module_::import("atexit").attr("register")(m.attr("wait_for_stragglers"));
  m.def("run_streams", &run, py::arg("work"), py::arg("config"),
        py::arg("warmup_watch") = py::none(), py::arg("on_measure") = py::none(),
        "Runs one stream per entry of `config.stream_cpus` (empty = unpinned). `work` is a "
        "NativeWork or make_step(stream_index) -> zero-argument callable, called on the pinned "
        "stream thread. `warmup_watch(elapsed_ns, calls, fewest) -> bool` (auto warmup), asked at "
        "each poll while the streams warm up, ends every stream's warmup when it returns True; "
        "config.warmup_s is then the bound. `on_measure()`, when given, is called once on this "
        "thread within a poll interval of the measured window's start.");
}

}  // namespace pinbench::bindings
