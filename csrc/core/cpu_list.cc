#include "cpu_list.h"

#include <algorithm>
#include <cctype>
#include <stdexcept>

namespace pinbench {
namespace {

int parse_int(const std::string& s, const std::string& whole) {
  if (s.empty() || !std::all_of(s.begin(), s.end(), [](unsigned char c) { return std::isdigit(c); }))
    throw std::invalid_argument("malformed CPU list '" + whole + "'");
  return std::stoi(s);
}

std::string trim(const std::string& s) {
  const auto b = s.find_first_not_of(" \t\r\n");
  if (b == std::string::npos) return "";
  const auto e = s.find_last_not_of(" \t\r\n");
  return s.substr(b, e - b + 1);
}

}  // namespace

std::vector<int> parse_cpu_list(const std::string& raw) {
  const std::string text = trim(raw);
  std::vector<int> cpus;
  if (text.empty()) return cpus;
  size_t pos = 0;
  while (pos <= text.size()) {
    size_t comma = text.find(',', pos);
    if (comma == std::string::npos) comma = text.size();
    const std::string item = trim(text.substr(pos, comma - pos));
    const size_t dash = item.find('-');
    if (dash == std::string::npos) {
      cpus.push_back(parse_int(item, text));
    } else {
      const int lo = parse_int(item.substr(0, dash), text);
      const int hi = parse_int(item.substr(dash + 1), text);
      if (hi < lo) throw std::invalid_argument("malformed CPU list '" + text + "'");
      for (int c = lo; c <= hi; ++c) cpus.push_back(c);
    }
    pos = comma + 1;
  }
  std::sort(cpus.begin(), cpus.end());
  cpus.erase(std::unique(cpus.begin(), cpus.end()), cpus.end());
  return cpus;
}

std::string format_cpu_list(const std::vector<int>& cpus) {
  std::string out;
  size_t i = 0;
  while (i < cpus.size()) {
    size_t j = i;
    while (j + 1 < cpus.size() && cpus[j + 1] == cpus[j] + 1) ++j;
    if (!out.empty()) out += ',';
    out += std::to_string(cpus[i]);
    if (j > i) out += '-' + std::to_string(cpus[j]);
    i = j + 1;
  }
  return out;
}

}  // namespace pinbench
