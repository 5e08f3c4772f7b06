#include <pybind11/stl.h>

#include <optional>

#include "../core/cpu_list.h"
#include "../core/topology.h"
#include "bindings.h"

namespace py = pybind11;

namespace pinbench::bindings {

void bind_topology(py::module_& m) {
  py::class_<Cpu>(m, "Cpu", "One logical CPU the process may use.")
      .def_readonly("id", &Cpu::id)
      .def_readonly("core", &Cpu::core, "index into Topology.cores")
      .def_readonly("socket", &Cpu::socket)
      .def_readonly("node", &Cpu::node)
      .def_property_readonly(
          "core_type", [](const Cpu& c) { return std::string(core_type_name(c.type)); },
          "'performance' or 'efficiency' on a hybrid CPU (Linux's cpu_core / cpu_atom lists); '' "
          "where none says")
      .def("__repr__", [](const Cpu& c) {
        const std::string type = core_type_name(c.type);
        return "Cpu(id=" + std::to_string(c.id) + ", core=" + std::to_string(c.core) +
               ", socket=" + std::to_string(c.socket) + ", node=" + std::to_string(c.node) +
               (type.empty() ? "" : ", core_type='" + type + "'") + ")";
      });
  py::class_<PhysicalCore>(m, "PhysicalCore", "A physical core and its allowed hardware threads.")
      .def_readonly("index", &PhysicalCore::index)
      .def_readonly("socket", &PhysicalCore::socket)
      .def_readonly("node", &PhysicalCore::node)
      .def_readonly("core_id", &PhysicalCore::core_id)
      .def_readonly("cpus", &PhysicalCore::cpus)
      .def_property_readonly(
          "core_type", [](const PhysicalCore& c) { return std::string(core_type_name(c.type)); },
          "'performance', 'efficiency' or '' (see Cpu.core_type)")
      .def("__repr__", [](const PhysicalCore& c) {
        const std::string type = core_type_name(c.type);
        return "PhysicalCore(index=" + std::to_string(c.index) + ", socket=" + std::to_string(c.socket) +
               ", node=" + std::to_string(c.node) + ", cpus=" + format_cpu_list(c.cpus) +
               (type.empty() ? "" : ", core_type='" + type + "'") + ")";
      });
  py::class_<Topology>(m, "Topology", "CPUs, physical cores, sockets and NUMA nodes this process may use.")
      .def_readonly("root", &Topology::root)
      .def_readonly("online", &Topology::online)
      .def_readonly("allowed", &Topology::allowed)
      .def_readonly("cpus", &Topology::cpus)
      .def_readonly("cores", &Topology::cores)
      .def_readonly("sockets", &Topology::sockets)
      .def_readonly("nodes", &Topology::nodes)
      .def_property_readonly("smt", &Topology::smt)
      .def_property_readonly("hybrid", &Topology::hybrid, "cores of more than one type")
      .def("cores_of_node", &Topology::cores_of_node, py::arg("node"))
      .def("__repr__", [](const Topology& t) {
        return "Topology(allowed=" + format_cpu_list(t.allowed) + ", cores=" +
               std::to_string(t.cores.size()) + ", sockets=" + std::to_string(t.sockets.size()) +
               ", nodes=" + std::to_string(t.nodes.size()) + ", smt=" + (t.smt() ? "True" : "False") +
               (t.hybrid() ? ", hybrid=True" : "") + ")";
      });
  m.def(
      "read_topology",
      [](const std::string& root, std::optional<std::vector<int>> allowed) {
        return read_topology(root, allowed ? &*allowed : nullptr);
      },
      py::arg("root") = "/sys", py::arg("allowed") = py::none(),
      "Reads the topology from sysfs under `root`, limited to the allowed CPUs.");
  m.def("read_machine_topology", &read_machine_topology, py::arg("root") = "/sys",
        "Reads the topology of every online CPU under `root`, usable by this process or not.");
  m.def("parse_cpu_list", &parse_cpu_list, py::arg("text"), "'0-2,5' -> [0, 1, 2, 5]");
  m.def("format_cpu_list", &format_cpu_list, py::arg("cpus"), "[0, 1, 2, 5] -> '0-2,5'");
}

}  // namespace pinbench::bindings
