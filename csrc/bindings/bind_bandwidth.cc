#include <pybind11/stl.h>

#include "../core/bandwidth.h"
#include "bindings.h"

namespace py = pybind11;

namespace pinbench::bindings {

void bind_bandwidth(py::module_& m) {
  py::class_<LastLevelCache>(m, "LastLevelCache", "The last-level cache of a set of CPUs, from sysfs.")
      .def_readonly("level", &LastLevelCache::level, "0 when sysfs lists no cache")
      .def_readonly("bytes_each", &LastLevelCache::bytes_each, "size of one instance")
      .def_readonly("instances", &LastLevelCache::instances, "distinct instances the CPUs share")
      .def_property_readonly("total_bytes", &LastLevelCache::total_bytes)
      .def("__repr__", [](const LastLevelCache& c) {
        return "LastLevelCache(level=" + std::to_string(c.level) + ", bytes_each=" +
               std::to_string(c.bytes_each) + ", instances=" + std::to_string(c.instances) + ")";
      });
  py::class_<BandwidthResult>(m, "Bandwidth", "Memory bandwidth measured STREAM's way on pinned threads.")
      .def_readonly("cpus", &BandwidthResult::cpus, "one measuring thread per CPU")
      .def_readonly("affinity", &BandwidthResult::affinity, "each thread's affinity, read back inside it")
      .def_readonly("array_bytes_per_thread", &BandwidthResult::array_bytes_per_thread)
      .def_readonly("arrays", &BandwidthResult::arrays)
      .def_readonly("repetitions", &BandwidthResult::repetitions)
      .def_readonly("read_gbps", &BandwidthResult::read_gbps, "sum over every array, 1e9 B/s")
      .def_readonly("triad_gbps", &BandwidthResult::triad_gbps, "a = b + s*c, 3 arrays' bytes, 1e9 B/s")
      .def_readonly("read_seconds", &BandwidthResult::read_seconds, "the best repetition")
      .def_readonly("triad_seconds", &BandwidthResult::triad_seconds, "the best repetition")
      .def("__repr__", [](const BandwidthResult& b) {
        return "Bandwidth(threads=" + std::to_string(b.cpus.size()) + ", read_gbps=" +
               std::to_string(b.read_gbps) + ", triad_gbps=" + std::to_string(b.triad_gbps) + ")";
      });
  m.def("read_last_level_cache", &read_last_level_cache, py::arg("root"), py::arg("cpus"),
        "The highest cache level sysfs lists for `cpus` under `root`, and its distinct instances.");
  m.def("suggested_array_bytes_per_thread", &suggested_array_bytes_per_thread, py::arg("llc"),
        py::arg("threads"),
        "Each array 4x all the last-level caches, at least 64 MiB, split over `threads` (4 KiB pages).");
  m.def(
      "measure_bandwidth",
      [](const std::vector<int>& cpus, int64_t array_bytes_per_thread, int repetitions) {
        return measure_bandwidth(BandwidthRequest{cpus, array_bytes_per_thread, repetitions});
      },
      py::arg("cpus"), py::arg("array_bytes_per_thread"), py::arg("repetitions") = 5,
      py::call_guard<py::gil_scoped_release>(),
      "One pinned thread per CPU: best-of-N read and triad bandwidth over arrays of its own.");
}

}  // namespace pinbench::bindings
