#include "topology.h"

#include <dirent.h>
#include <sched.h>

#include <algorithm>
#include <fstream>
#include <map>
#include <sstream>
#include <stdexcept>
#include <tuple>
#include <utility>

#include "affinity.h"
#include "cpu_list.h"

namespace pinbench {
namespace {

bool read_file(const std::string& path, std::string* out) {
  std::ifstream f(path);
  if (!f) return false;
  std::stringstream ss;
  ss << f.rdbuf();
  *out = ss.str();
  return true;
}

std::string must_read(const std::string& path) {
  std::string s;
  if (!read_file(path, &s)) throw std::runtime_error("cannot read " + path);
  return s;
}

int read_int_or(const std::string& path, int fallback) {
  std::string s;
  if (!read_file(path, &s)) return fallback;
  try {
    return std::stoi(s);
  } catch (const std::exception&) {
    return fallback;
  }
}

// NUMA node of every CPU listed under <root>/devices/system/node/nodeN/cpulist.
std::map<int, int> read_nodes(const std::string& root) {
  std::map<int, int> node_of;
  const std::string dir = root + "/devices/system/node";
  DIR* d = opendir(dir.c_str());
  if (d == nullptr) return node_of;
  std::vector<int> ids;
  while (dirent* e = readdir(d)) {
    const std::string name = e->d_name;
    if (name.size() > 4 && name.compare(0, 4, "node") == 0 &&
        std::all_of(name.begin() + 4, name.end(), [](unsigned char c) { return std::isdigit(c); }))
      ids.push_back(std::stoi(name.substr(4)));
  }
  closedir(d);
  for (int id : ids) {
    std::string text;
    if (!read_file(dir + "/node" + std::to_string(id) + "/cpulist", &text)) continue;
    for (int cpu : parse_cpu_list(text)) node_of[cpu] = id;
  }
  return node_of;
}

// The core type of every CPU the hybrid lists name; empty on a machine without them. A list
// that cannot be parsed is ignored: the types are then unknown, never guessed.
std::map<int, CoreType> read_core_types(const std::string& root) {
  std::map<int, CoreType> type_of;
  const std::pair<const char*, CoreType> lists[] = {{"cpu_core", CoreType::kPerformance},
                                                    {"cpu_atom", CoreType::kEfficiency}};
  for (const auto& [name, type] : lists) {
    std::string text;
    if (!read_file(root + "/devices/" + name + "/cpus", &text)) continue;
    try {
      for (int cpu : parse_cpu_list(text)) type_of[cpu] = type;
    } catch (const std::invalid_argument&) {
      continue;
    }
  }
  return type_of;
}

std::vector<int> intersect(const std::vector<int>& a, const std::vector<int>& b) {
  std::vector<int> out;
  std::set_intersection(a.begin(), a.end(), b.begin(), b.end(), std::back_inserter(out));
  return out;
}

}  // namespace

const char* core_type_name(CoreType type) {
  switch (type) {
    case CoreType::kPerformance:
      return "performance";
    case CoreType::kEfficiency:
      return "efficiency";
    case CoreType::kUnknown:
      break;
  }
  return "";
}

std::vector<int> Topology::cores_of_node(int node) const {
  std::vector<int> out;
  for (const auto& c : cores)
    if (c.node == node) out.push_back(c.index);
  return out;
}

bool Topology::smt() const {
  return std::any_of(cores.begin(), cores.end(), [](const PhysicalCore& c) { return c.cpus.size() > 1; });
}

bool Topology::hybrid() const {
  return std::any_of(cores.begin(), cores.end(),
                     [this](const PhysicalCore& c) { return c.type != cores.front().type; });
}

namespace {

std::vector<int> read_online(const std::string& root) {
  return parse_cpu_list(must_read(root + "/devices/system/cpu/online"));
}

// The topology of `allowed` (a subset of `online`, ascending, not empty) under `root`.
Topology read_cpus(const std::string& root, std::vector<int> online, std::vector<int> allowed) {
  Topology t;
  t.root = root;
  const std::string cpu_dir = root + "/devices/system/cpu";
  t.online = std::move(online);
  t.allowed = std::move(allowed);

  const std::map<int, int> node_of = read_nodes(root);
  const std::map<int, CoreType> type_of = read_core_types(root);

  // A physical core is identified by its socket and its sibling set (core_id alone repeats
  // across sockets, and on some machines across dies).
  struct Raw {
    int id, socket, node, core_id, first_sibling;
    CoreType type;
  };
  std::vector<Raw> raws;
  for (int id : t.allowed) {
    const std::string top = cpu_dir + "/cpu" + std::to_string(id) + "/topology";
    Raw r{};
    r.id = id;
    r.socket = std::max(0, read_int_or(top + "/physical_package_id", 0));
    // core_cpus_list is the kernel's name since 5.x; thread_siblings_list the older one.
    std::string sib;
    const std::vector<int> siblings =
        read_file(top + "/core_cpus_list", &sib) || read_file(top + "/thread_siblings_list", &sib)
            ? parse_cpu_list(sib)
            : std::vector<int>{id};
    r.first_sibling = siblings.empty() ? id : siblings.front();
    // Without core_id the sibling set alone names the core (never one core per thread).
    r.core_id = read_int_or(top + "/core_id", r.first_sibling);
    const auto n = node_of.find(id);
    r.node = n == node_of.end() ? 0 : n->second;
    // Siblings share their core's type: the first sibling's, else the CPU's own.
    auto ty = type_of.find(r.first_sibling);
    if (ty == type_of.end()) ty = type_of.find(id);
    r.type = ty != type_of.end() ? ty->second : CoreType::kUnknown;
    raws.push_back(r);
  }

  // type (performance first), node, socket, core_id, first sibling
  using Key = std::tuple<CoreType, int, int, int, int>;
  std::map<Key, std::vector<int>> by_core;
  for (const Raw& r : raws)
    by_core[Key{r.type, r.node, r.socket, r.core_id, r.first_sibling}].push_back(r.id);
  std::map<int, int> core_of_cpu;
  for (const auto& [key, cpus] : by_core) {
    PhysicalCore c;
    c.index = static_cast<int>(t.cores.size());
    c.type = std::get<0>(key);
    c.node = std::get<1>(key);
    c.socket = std::get<2>(key);
    c.core_id = std::get<3>(key);
    c.cpus = cpus;
    std::sort(c.cpus.begin(), c.cpus.end());
    for (int cpu : c.cpus) core_of_cpu[cpu] = c.index;
    t.cores.push_back(std::move(c));
  }
  for (const Raw& r : raws) {
    t.cpus.push_back(Cpu{r.id, core_of_cpu[r.id], r.socket, r.node, r.type});
    t.sockets.push_back(r.socket);
    t.nodes.push_back(r.node);
  }
  for (auto* v : {&t.sockets, &t.nodes}) {
    std::sort(v->begin(), v->end());
    v->erase(std::unique(v->begin(), v->end()), v->end());
  }
  return t;
}

}  // namespace

Topology read_topology(const std::string& root, const std::vector<int>* allowed_in) {
  std::vector<int> online = read_online(root);
  std::vector<int> allowed;
  if (allowed_in != nullptr) {
    allowed = *allowed_in;
    std::sort(allowed.begin(), allowed.end());
    allowed.erase(std::unique(allowed.begin(), allowed.end()), allowed.end());
  } else if (root == "/sys") {
    allowed = current_affinity();
  } else {
    allowed = online;
  }
  std::string cgroup;
  if (read_file(root + "/fs/cgroup/cpuset.cpus.effective", &cgroup) &&
      !parse_cpu_list(cgroup).empty())
    allowed = intersect(allowed, parse_cpu_list(cgroup));
  allowed = intersect(allowed, online);
  if (allowed.empty())
    throw std::runtime_error("no online CPU is allowed for this process (sysfs root " + root + ")");
  return read_cpus(root, std::move(online), std::move(allowed));
}

Topology read_machine_topology(const std::string& root) {
  std::vector<int> online = read_online(root);
  if (online.empty()) throw std::runtime_error("no CPU is online (sysfs root " + root + ")");
  std::vector<int> all = online;
  return read_cpus(root, std::move(online), std::move(all));
}

}  // namespace pinbench
