#include <memory>

#include "../core/work.h"
#include "bindings.h"

namespace py = pybind11;

namespace pinbench::bindings {

void bind_work(py::module_& m) {
  py::class_<NativeWorkFactory, std::shared_ptr<NativeWorkFactory>>(
      m, "NativeWork", "A native step (spin or no-op) that the runner runs without taking the GIL.")
      .def_property_readonly("spin_ns", &NativeWorkFactory::spin_ns)
      .def_static(
          "spin", [](int64_t ns) { return std::make_shared<NativeWorkFactory>(ns); }, py::arg("ns"),
          "Busy-wait `ns` nanoseconds per iteration.")
      .def_static(
          "noop", [] { return std::make_shared<NativeWorkFactory>(0); }, "Do nothing per iteration.")
      .def(py::pickle(  // so that process isolation can send it to its worker processes
          [](const NativeWorkFactory& w) { return py::make_tuple(w.spin_ns()); },
          [](const py::tuple& t) { return std::make_shared<NativeWorkFactory>(t[0].cast<int64_t>()); }))
      .def("__repr__", [](const NativeWorkFactory& w) {
        return w.spin_ns() == 0 ? std::string("NativeWork.noop()")
                                : "NativeWork.spin(" + std::to_string(w.spin_ns()) + ")";
      });
}

}  // namespace pinbench::bindings
