// Linux CPU list strings ("0-3,8,10-11"), as found in sysfs and cgroup files.
#pragma once

#include <string>
#include <vector>

namespace pinbench {

// Parses a kernel CPU list. Throws std::invalid_argument on malformed text.
// The result is sorted and free of duplicates.
std::vector<int> parse_cpu_list(const std::string& text);

// The inverse: sorted CPUs as the shortest range list, e.g. {0,1,2,5} -> "0-2,5".
std::string format_cpu_list(const std::vector<int>& cpus);

}  // namespace pinbench
