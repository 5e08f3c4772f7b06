// The CPUs this process may run on, grouped into physical cores, sockets and NUMA nodes,
// read from sysfs under a root directory that tests replace with fixture trees.
#pragma once

#include <string>
#include <vector>

namespace pinbench {

struct Cpu {
  int id;      // logical CPU number, as in cpuN
  int core;    // index into Topology::cores
  int socket;  // physical_package_id
  int node;    // NUMA node id (0 when the kernel exposes no nodes)
};

struct PhysicalCore {
  int index;               // position in Topology::cores
  int socket;
  int node;
  int core_id;             // topology/core_id (unique within a socket only)
  std::vector<int> cpus;   // its allowed hardware threads, ascending; never empty
};

struct Topology {
  std::string root;                // the sysfs root it was read from
  std::vector<int> online;         // online logical CPUs, allowed or not
  std::vector<int> allowed;        // online CPUs this process may use, ascending
  std::vector<Cpu> cpus;           // one per allowed CPU, ascending id
  std::vector<PhysicalCore> cores; // physical cores with >= 1 allowed thread, ordered by (node, socket, core_id)
  std::vector<int> sockets;        // socket ids with >= 1 allowed CPU
  std::vector<int> nodes;          // NUMA node ids with >= 1 allowed CPU

  // The cores of one NUMA node, in `cores` order.
  std::vector<int> cores_of_node(int node) const;
  // True when some allowed physical core has more than one allowed hardware thread.
  bool smt() const;
};

// Reads <root>/devices/system/cpu and <root>/devices/system/node.
// `allowed`: the CPUs the process may use. When null, the calling thread's affinity mask is used
// for the real "/sys" and every online CPU for any other root. In both cases the result is further
// intersected with <root>/fs/cgroup/cpuset.cpus.effective when that file exists.
// Throws std::runtime_error when the tree is unreadable or no allowed CPU is online.
Topology read_topology(const std::string& root = "/sys", const std::vector<int>* allowed = nullptr);

}  // namespace pinbench
