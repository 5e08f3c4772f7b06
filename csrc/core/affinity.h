// Pinning the calling thread, and planning one CPU set per stream.
#pragma once

#include <string>
#include <vector>

#include "topology.h"

namespace pinbench {

// The calling thread's affinity mask, ascending. Throws std::system_error on failure.
std::vector<int> current_affinity();

// Pins the calling thread to `cpus` (non-empty). Returns an empty string on success, else the
// reason. Never throws: it runs first on every stream thread.
std::string pin_current_thread(const std::vector<int>& cpus) noexcept;

enum class PinMode { kCore, kNuma, kNone };

// Parses "core" / "numa" / "none". Throws std::invalid_argument otherwise.
PinMode parse_pin_mode(const std::string& name);

struct PlanRequest {
  int streams = 1;      // >= 1
  int cores = 0;        // physical cores to use; 0 = every allowed physical core
  PinMode mode = PinMode::kCore;
  bool smt = false;     // give each stream every allowed hardware thread of its cores, not one
};

struct StreamPlan {
  std::vector<int> cpus;   // CPUs to pin to; empty = unpinned (mode none)
  std::vector<int> cores;  // indices into Topology::cores that this stream's work may use
};

// One plan per stream, by the rules in docs/design.md ("Pinning"):
//  core: disjoint groups of physical cores, sizes differing by at most one, each group kept inside
//        one NUMA node where it fits; the first `cores` cores in Topology::cores order are used.
//        On a hybrid CPU a group never mixes core types: each type's cores get their own streams
//        (one each at least, the rest where cores per stream are most), group sizes even within
//        a type; fewer streams than types over all cores (`cores` 0) use the performance cores
//        only, and over `cores` given is an error;
//  numa: stream i gets every selected core of the i-th node (mod the nodes that have selected cores);
//        on a hybrid CPU, of the i-th (node, core type), performance cores first;
//  none: no CPUs; `cores` still splits the selected cores for the engine's thread counts.
// Throws std::invalid_argument for impossible requests (more cores than allowed, more core-pinned
// streams than cores, streams < 1, cores < 0, a group that would mix core types) — never clamps
// silently.
std::vector<StreamPlan> plan_affinity(const Topology& topology, const PlanRequest& request);

}  // namespace pinbench
