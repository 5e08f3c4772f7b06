#include "affinity.h"

#include <pthread.h>
#include <sched.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <map>
#include <memory>
#include <stdexcept>
#include <system_error>
#include <utility>

#include "cpu_list.h"

namespace pinbench {
namespace {

// A CPU mask large enough for any CPU id the kernel may report (CPU_SETSIZE is only 1024).
struct DynamicCpuSet {
  explicit DynamicCpuSet(int max_cpu)
      : count(std::max(max_cpu + 1, CPU_SETSIZE)),
        size(CPU_ALLOC_SIZE(count)),
        set(CPU_ALLOC(count), [](cpu_set_t* p) { CPU_FREE(p); }) {
    if (set) CPU_ZERO_S(size, set.get());
  }
  int count;
  size_t size;
  std::unique_ptr<cpu_set_t, void (*)(cpu_set_t*)> set;
};

std::vector<int> cpus_of_cores(const Topology& t, const std::vector<int>& cores, bool smt) {
  std::vector<int> cpus;
  for (int c : cores) {
    const auto& threads = t.cores[static_cast<size_t>(c)].cpus;
    if (smt)
      cpus.insert(cpus.end(), threads.begin(), threads.end());
    else
      cpus.push_back(threads.front());
  }
  std::sort(cpus.begin(), cpus.end());
  return cpus;
}

// Group sizes for `streams` groups over `cores` cores: differ by at most one, largest first.
std::vector<int> balanced_sizes(int cores, int streams) {
  std::vector<int> sizes(static_cast<size_t>(streams), cores / streams);
  for (int i = 0; i < cores % streams; ++i) ++sizes[static_cast<size_t>(i)];
  return sizes;
}

std::vector<std::vector<int>> group_cores_by_node(const Topology& t, const std::vector<int>& selected,
                                                  const std::vector<int>& sizes) {
  // Free selected cores per node, in topology order.
  std::map<int, std::vector<int>> free_by_node;
  for (int c : selected) free_by_node[t.cores[static_cast<size_t>(c)].node].push_back(c);
  auto fullest = [&]() {
    auto best = free_by_node.begin();
    for (auto it = free_by_node.begin(); it != free_by_node.end(); ++it)
      if (it->second.size() > best->second.size()) best = it;
    return best;
  };
  std::vector<std::vector<int>> groups;
  for (int size : sizes) {
    std::vector<int> group;
    auto node = fullest();
    if (static_cast<int>(node->second.size()) >= size) {
      group.assign(node->second.begin(), node->second.begin() + size);
      node->second.erase(node->second.begin(), node->second.begin() + size);
    } else {
      // No node has room for the whole group: it has to span nodes; take from the fullest first.
      while (static_cast<int>(group.size()) < size) {
        node = fullest();
        const size_t take = std::min(node->second.size(), static_cast<size_t>(size) - group.size());
        group.insert(group.end(), node->second.begin(), node->second.begin() + static_cast<long>(take));
        node->second.erase(node->second.begin(), node->second.begin() + static_cast<long>(take));
      }
    }
    std::sort(group.begin(), group.end());
    groups.push_back(std::move(group));
  }
  return groups;
}

// The selected cores split by core type, in `selected` order (performance cores first): one pool
// unless the CPU is hybrid.
std::vector<std::vector<int>> pools_by_type(const Topology& t, const std::vector<int>& selected) {
  std::vector<CoreType> types;
  std::vector<std::vector<int>> pools;
  for (int c : selected) {
    const CoreType type = t.cores[static_cast<size_t>(c)].type;
    const auto it = std::find(types.begin(), types.end(), type);
    const size_t k = static_cast<size_t>(it - types.begin());
    if (it == types.end()) {
      types.push_back(type);
      pools.emplace_back();
    }
    pools[k].push_back(c);
  }
  return pools;
}

// The selected cores of each (NUMA node, core type), in `selected` order: the nodes, unless the
// CPU is hybrid.
std::vector<std::vector<int>> pools_by_node_and_type(const Topology& t, const std::vector<int>& selected) {
  std::vector<std::pair<int, CoreType>> keys;
  std::vector<std::vector<int>> pools;
  for (int c : selected) {
    const auto& core = t.cores[static_cast<size_t>(c)];
    const std::pair<int, CoreType> key{core.node, core.type};
    const auto it = std::find(keys.begin(), keys.end(), key);
    const size_t k = static_cast<size_t>(it - keys.begin());
    if (it == keys.end()) {
      keys.push_back(key);
      pools.emplace_back();
    }
    pools[k].push_back(c);
  }
  return pools;
}

// How many of `streams` streams each pool gets: one each, then one at a time to the pool with the
// most cores per stream (the earlier pool on a tie), so that groups stay as even as the pools
// allow. REQUIRES: pools.size() <= streams <= the pools' cores.
std::vector<int> streams_per_pool(const std::vector<std::vector<int>>& pools, int streams) {
  std::vector<int> counts(pools.size(), 1);
  for (int left = streams - static_cast<int>(pools.size()); left > 0; --left) {
    size_t best = 0;
    for (size_t p = 1; p < pools.size(); ++p)
      if (pools[p].size() * static_cast<size_t>(counts[best]) > pools[best].size() * static_cast<size_t>(counts[p]))
        best = p;
    ++counts[best];
  }
  return counts;
}

std::string mixing_error(const Topology& t, const std::vector<std::vector<int>>& pools, int streams) {
  std::string kinds;
  size_t total = 0;
  const std::string first = core_type_name(t.cores[static_cast<size_t>(pools.front().front())].type);
  for (const auto& pool : pools) {
    const std::string name = core_type_name(t.cores[static_cast<size_t>(pool.front())].type);
    kinds += (kinds.empty() ? "" : ", ") + std::to_string(pool.size()) + " " +
             (name.empty() ? "of unknown type" : name);
    total += pool.size();
  }
  return std::to_string(total) + " cores over " + std::to_string(streams) +
         " stream(s) would mix core types in one stream's group (" + kinds +
         "); a stream's cores are of one type: ask for at most " + std::to_string(pools.front().size()) +
         " cores (the " + first + " ones) or at least " + std::to_string(pools.size()) + " streams";
}

}  // namespace

std::vector<int> current_affinity() {
  const int max_cpu = 8191;
  DynamicCpuSet s(max_cpu);
  if (!s.set) throw std::system_error(ENOMEM, std::generic_category(), "CPU_ALLOC");
  if (sched_getaffinity(0, s.size, s.set.get()) != 0)
    throw std::system_error(errno, std::generic_category(), "sched_getaffinity");
  std::vector<int> cpus;
  for (int c = 0; c < s.count; ++c)
    if (CPU_ISSET_S(c, s.size, s.set.get())) cpus.push_back(c);
  return cpus;
}

std::string pin_current_thread(const std::vector<int>& cpus) noexcept {
  try {
    if (cpus.empty()) return "empty CPU set";
    const int max_cpu = *std::max_element(cpus.begin(), cpus.end());
    DynamicCpuSet s(max_cpu);
    if (!s.set) return "out of memory";
    for (int c : cpus) {
      if (c < 0) return "negative CPU id";
      CPU_SET_S(c, s.size, s.set.get());
    }
    const int rc = pthread_setaffinity_np(pthread_self(), s.size, s.set.get());
    if (rc != 0)
      return "pthread_setaffinity_np(" + format_cpu_list(cpus) + "): " + std::strerror(rc);
    return "";
  } catch (...) {
    return "pinning failed";
  }
}

PinMode parse_pin_mode(const std::string& name) {
  if (name == "core") return PinMode::kCore;
  if (name == "numa") return PinMode::kNuma;
  if (name == "none") return PinMode::kNone;
  throw std::invalid_argument("unknown pinning '" + name + "': expected core, numa or none");
}

std::vector<StreamPlan> plan_affinity(const Topology& t, const PlanRequest& req) {
  const int available = static_cast<int>(t.cores.size());
  if (req.streams < 1)
    throw std::invalid_argument("number of streams must be at least 1, got " + std::to_string(req.streams));
  if (req.cores < 0)
    throw std::invalid_argument("number of cores must be at least 1, got " + std::to_string(req.cores));
  const int cores = req.cores == 0 ? available : req.cores;
  if (cores > available)
    throw std::invalid_argument("requested " + std::to_string(cores) + " cores but only " +
                                std::to_string(available) +
                                " physical cores are available to this process (CPUs " +
                                format_cpu_list(t.allowed) + ")");

  std::vector<int> selected;
  for (int i = 0; i < cores; ++i) selected.push_back(i);

  std::vector<StreamPlan> plans(static_cast<size_t>(req.streams));
  switch (req.mode) {
    case PinMode::kCore: {
      if (req.streams > cores)
        throw std::invalid_argument(std::to_string(req.streams) + " streams pinned by core need at least " +
                                    std::to_string(req.streams) + " cores, but only " +
                                    std::to_string(cores) + " are selected");
      // A group never mixes core types: each type's cores get their own streams. With fewer
      // streams than types, all cores (no -ncores) means the preferred types' cores only.
      auto pools = pools_by_type(t, selected);
      if (req.streams < static_cast<int>(pools.size())) {
        if (req.cores != 0) throw std::invalid_argument(mixing_error(t, pools, req.streams));
        pools.resize(static_cast<size_t>(req.streams));
      }
      const std::vector<int> counts = streams_per_pool(pools, req.streams);
      size_t next = 0;
      for (size_t p = 0; p < pools.size(); ++p) {
        const int size = static_cast<int>(pools[p].size());
        for (auto& group : group_cores_by_node(t, pools[p], balanced_sizes(size, counts[p]))) {
          plans[next].cpus = cpus_of_cores(t, group, req.smt);
          plans[next].cores = std::move(group);
          ++next;
        }
      }
      break;
    }
    case PinMode::kNuma: {
      // On a hybrid CPU each node's cores of one type count as a node: performance first.
      const auto pools = pools_by_node_and_type(t, selected);
      for (size_t i = 0; i < plans.size(); ++i) {
        plans[i].cores = pools[i % pools.size()];
        plans[i].cpus = cpus_of_cores(t, plans[i].cores, req.smt);
      }
      break;
    }
    case PinMode::kNone: {
      // Unpinned, but the engine still needs a thread count per stream.
      const auto sizes = balanced_sizes(cores, std::min(req.streams, cores));
      size_t next = 0;
      for (size_t i = 0; i < plans.size(); ++i) {
        const int size = sizes[i % sizes.size()];
        if (next + static_cast<size_t>(size) > selected.size()) next = 0;
        plans[i].cores.assign(selected.begin() + static_cast<long>(next),
                              selected.begin() + static_cast<long>(next) + size);
        next += static_cast<size_t>(size);
      }
      break;
    }
  }
  return plans;
}

}  // namespace pinbench
