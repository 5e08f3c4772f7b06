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
      const auto groups = group_cores_by_node(t, selected, balanced_sizes(cores, req.streams));
      for (size_t i = 0; i < plans.size(); ++i) {
        plans[i].cores = groups[i];
        plans[i].cpus = cpus_of_cores(t, groups[i], req.smt);
      }
      break;
    }
    case PinMode::kNuma: {
      std::vector<int> nodes;
      for (int c : selected) {
        const int n = t.cores[static_cast<size_t>(c)].node;
        if (std::find(nodes.begin(), nodes.end(), n) == nodes.end()) nodes.push_back(n);
      }
      for (size_t i = 0; i < plans.size(); ++i) {
        const int node = nodes[i % nodes.size()];
        for (int c : selected)
          if (t.cores[static_cast<size_t>(c)].node == node) plans[i].cores.push_back(c);
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
