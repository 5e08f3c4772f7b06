// One bind_* function per bound concept; module.cc calls them all.
#pragma once

#include <pybind11/pybind11.h>

namespace pinbench::bindings {

void bind_clock(pybind11::module_& m);
void bind_topology(pybind11::module_& m);
void bind_affinity(pybind11::module_& m);
void bind_work(pybind11::module_& m);
void bind_run_result(pybind11::module_& m);
void bind_runner(pybind11::module_& m);
void bind_isolation(pybind11::module_& m);
void bind_bandwidth(pybind11::module_& m);
void bind_counters(pybind11::module_& m);

}  // namespace pinbench::bindings
