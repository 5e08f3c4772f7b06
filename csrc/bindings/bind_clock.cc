#include "../core/clock.h"
#include "bindings.h"

namespace py = pybind11;

namespace pinbench::bindings {

void bind_clock(py::module_& m) {
  py::class_<ClockProbe>(m, "ClockProbe", "Cost and granularity of the steady clock, measured.")
      .def_readonly("overhead_ns", &ClockProbe::overhead_ns, "mean cost of one clock read")
      .def_readonly("resolution_ns", &ClockProbe::resolution_ns, "smallest non-zero step seen")
      .def_readonly("period_ns", &ClockProbe::period_ns, "nominal tick of CLOCK_MONOTONIC")
      .def_readonly("samples", &ClockProbe::samples)
      .def("__repr__", [](const ClockProbe& p) {
        return "ClockProbe(overhead_ns=" + std::to_string(p.overhead_ns) +
               ", resolution_ns=" + std::to_string(p.resolution_ns) +
               ", period_ns=" + std::to_string(p.period_ns) + ")";
      });
  m.def("now_ns", &now_ns, "The runner's clock (steady_clock) in integer nanoseconds.");
  m.def("probe_clock", &probe_clock, py::arg("samples") = 200000,
        py::call_guard<py::gil_scoped_release>(),
        "Reads the clock `samples` times back to back; returns its overhead and resolution.");
}

}  // namespace pinbench::bindings
