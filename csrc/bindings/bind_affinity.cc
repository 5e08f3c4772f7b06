#include <pybind11/stl.h>

#include <stdexcept>

#include "../core/affinity.h"
#include "../core/cpu_list.h"
#include "bindings.h"

namespace py = pybind11;

namespace pinbench::bindings {

void bind_affinity(py::module_& m) {
  py::class_<StreamPlan>(m, "StreamPlan", "The CPUs and physical cores planned for one stream.")
      .def_readonly("cpus", &StreamPlan::cpus, "CPUs to pin to; empty = not pinned")
      .def_readonly("cores", &StreamPlan::cores, "indices into Topology.cores")
      .def("__repr__", [](const StreamPlan& p) {
        return "StreamPlan(cpus='" + format_cpu_list(p.cpus) + "', cores=" + std::to_string(p.cores.size()) + ")";
      });
  m.def(
      "plan_affinity",
      [](const Topology& t, int streams, int cores, const std::string& mode, bool smt) {
        PlanRequest r;
        r.streams = streams;
        r.cores = cores;
        r.mode = parse_pin_mode(mode);
        r.smt = smt;
        return plan_affinity(t, r);
      },
      py::arg("topology"), py::arg("streams"), py::arg("cores") = 0, py::arg("mode") = "core",
      py::arg("smt") = false,
      "One StreamPlan per stream (core / numa / none); ValueError for impossible requests.");
  m.def("current_affinity", &current_affinity, "The calling thread's CPUs.");
  m.def(
      "pin_current_thread",
      [](const std::vector<int>& cpus) {
        const std::string err = pin_current_thread(cpus);
        if (!err.empty()) throw std::runtime_error(err);
      },
      py::arg("cpus"), "Pins the calling thread to `cpus`; RuntimeError on failure.");
}

}  // namespace pinbench::bindings
