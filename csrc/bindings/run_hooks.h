// What both runners' bindings (bind_runner.cc, bind_isolation.cc) hand the core: the step
// factory and the warmup watch (the signal check: signal_watch.h).
#pragma once

#include <pybind11/pybind11.h>

#include <functional>
#include <memory>

#include "../core/step.h"
#include "../core/warmup_watch.h"

namespace pinbench::bindings {

// The runner's factory for `work`: a NativeWork as it is, else a Python make_step(i) whose steps
// time their GIL waits when `time_gil_waits` (other streams share this interpreter).
// REQUIRES: the GIL.
std::shared_ptr<StepFactory> step_factory(pybind11::object work, int streams, bool time_gil_waits);

// The runner's WarmupWatch for a Python `watch(elapsed_ns, calls, fewest) -> bool` (taking the
// GIL); none for None. `watch` must outlive the run.
WarmupWatch warmup_watch(const pybind11::object& watch);

}  // namespace pinbench::bindings
