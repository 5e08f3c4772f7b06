// Per-stream counters: the stand-in PMU that tests use where the machine has none.
#include <pybind11/stl.h>

#include <optional>
#include <stdexcept>
#include <string>

#include "../core/counters.h"
#include "bindings.h"

namespace py = pybind11;

namespace pinbench::bindings {
namespace {

void use_fake_pmu(const std::optional<std::string>& answer) {
  if (!answer) return set_perf_api(nullptr);
  if (*answer == "present") return set_perf_api(fake_pmu_api(FakePmu::kPresent));
  if (*answer == "multiplexed") return set_perf_api(fake_pmu_api(FakePmu::kMultiplexed));
  if (*answer == "not_permitted") return set_perf_api(fake_pmu_api(FakePmu::kNotPermitted));
  if (*answer == "absent") return set_perf_api(fake_pmu_api(FakePmu::kAbsent));
  throw py::value_error("answer must be present, multiplexed, not_permitted, absent or None");
}

}  // namespace

void bind_counters(py::module_& m) {
  m.def("use_fake_pmu", &use_fake_pmu, py::arg("answer"),
        "For tests: hardware events answer as `answer` says ('present', 'multiplexed' at half "
        "the time, 'not_permitted' = EACCES, 'absent' = ENOENT) in every later run; software "
        "events still go to the kernel. None restores the kernel's answer. Not while a run is "
        "in progress.");
}

}  // namespace pinbench::bindings
