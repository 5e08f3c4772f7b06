// The CPUs this process may run on, grouped into physical cores, sockets and NUMA nodes,
// read from sysfs under a root directory that tests replace with fixture trees.
#pragma once

#include <string>
#include <vector>

namespace pinbench {

// The kind of a hybrid CPU's core, as Linux lists them: <root>/devices/cpu_core/cpus (Intel's
// performance cores) and <root>/devices/cpu_atom/cpus (its efficiency cores). kUnknown where
// neither list names the CPU, which is every CPU of a machine whose cores are all alike.
enum class CoreType { kPerformance, kUnknown, kEfficiency };  // in the order planners prefer

// "performance", "efficiency" or "" (unknown).
const char* core_type_name(CoreType type);

struct Cpu {
  int id;      // logical CPU number, as in cpuN
  int core;    // index into Topology::cores
  int socket;  // physical_package_id
  int node;    // NUMA node id (0 when the kernel exposes no nodes)
  CoreType type = CoreType::kUnknown;
};

struct PhysicalCore {
  int index;               // position in Topology::cores
  int socket;
  int node;
  int core_id;             // topology/core_id (unique within a socket only); else its first CPU
  std::vector<int> cpus;   // its allowed hardware threads, ascending; never empty
  CoreType type = CoreType::kUnknown;  // its first hardware thread's
};

struct Topology {
  std::string root;                // the sysfs root it was read from
  std::vector<int> online;         // online logical CPUs, allowed or not
  std::vector<int> allowed;        // online CPUs this process may use, ascending
  std::vector<Cpu> cpus;           // one per allowed CPU, ascending id
  // Physical cores with >= 1 allowed thread, ordered by (core type, node, socket, core_id):
  // performance cores first on a hybrid CPU, so that "the first N cores" are the fastest.
  std::vector<PhysicalCore> cores;
  std::vector<int> sockets;        // socket ids with >= 1 allowed CPU
  std::vector<int> nodes;          // NUMA node ids with >= 1 allowed CPU

  // The cores of one NUMA node, in `cores` order.
  std::vector<int> cores_of_node(int node) const;
  // True when some allowed physical core has more than one allowed hardware thread.
  bool smt() const;
  // True when the allowed cores are of more than one type (a hybrid CPU).
  bool hybrid() const;
};

// Reads <root>/devices/system/cpu (each CPU's topology/core_cpus_list, or thread_siblings_list
// on older kernels), <root>/devices/system/node and, where they exist, the core types' lists
// <root>/devices/cpu_core/cpus and <root>/devices/cpu_atom/cpus.
// `allowed`: the CPUs the process may use. When null, the calling thread's affinity mask is used
// for the real "/sys" and every online CPU for any other root. In both cases the result is further
// intersected with <root>/fs/cgroup/cpuset.cpus.effective when that file exists.
// Throws std::runtime_error when the tree is unreadable or no allowed CPU is online.
Topology read_topology(const std::string& root = "/sys", const std::vector<int>* allowed = nullptr);

// The whole machine under `root`: every online CPU, whatever this process may use (affinity and
// cgroup cpusets ignored), for describing the machine rather than planning on it.
// Throws std::runtime_error when the tree is unreadable.
Topology read_machine_topology(const std::string& root = "/sys");

}  // namespace pinbench
