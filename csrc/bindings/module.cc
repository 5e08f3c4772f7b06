// pinbench._core: the native core of pinbench. A table of contents; each concept binds itself.
#include "bindings.h"

PYBIND11_MODULE(_core, m) {
  m.doc() = "pinbench native core: topology, pinning, clock, the pinned stream runner, memory bandwidth and per-stream counters";
  pinbench::bindings::bind_clock(m);
  pinbench::bindings::bind_topology(m);
  pinbench::bindings::bind_affinity(m);
  pinbench::bindings::bind_work(m);
  pinbench::bindings::bind_run_result(m);
  pinbench::bindings::bind_runner(m);
  pinbench::bindings::bind_isolation(m);
  pinbench::bindings::bind_bandwidth(m);
  pinbench::bindings::bind_counters(m);
}
