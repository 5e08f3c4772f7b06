#include "run_config.h"

#include <algorithm>
#include <stdexcept>
#include <string>

namespace pinbench {
namespace {

void check_seconds(double s, const char* what) {
  if (s > kMaxSeconds)
    throw std::invalid_argument(std::string(what) + " must be at most 1e9 s (int64 nanoseconds)");
}

void check_open_loop(const RunnerConfig& c) {
  if (c.duration_s <= 0) throw std::invalid_argument("the open loop needs a duration > 0");
  if (!(c.drain_s >= 0)) throw std::invalid_argument("drain time must be >= 0");
  if (!std::is_sorted(c.arrivals_ns.begin(), c.arrivals_ns.end()) ||
      (!c.arrivals_ns.empty() &&
       (c.arrivals_ns.front() < 0 || c.arrivals_ns.back() > seconds_to_ns(kMaxSeconds))))
    throw std::invalid_argument("arrivals must be ascending offsets >= 0, at most 1e9 s");
}

}  // namespace

void check_config(const RunnerConfig& c) {
  if (c.stream_cpus.empty()) throw std::invalid_argument("at least one stream is required");
  if (!(c.warmup_s >= 0) || !std::isfinite(c.warmup_s))
    throw std::invalid_argument("warmup must be a finite number of seconds >= 0");
  if (std::isnan(c.duration_s)) throw std::invalid_argument("duration must be a number");
  check_seconds(c.warmup_s, "warmup");
  check_seconds(c.duration_s, "duration");
  check_seconds(c.iteration_timeout_s, "iteration timeout");
  check_seconds(c.poll_interval_s, "poll interval");
  check_seconds(c.drain_s, "drain time");
  if (c.max_iterations < 0) throw std::invalid_argument("max_iterations must be >= 0");
  if (c.max_samples < 0) throw std::invalid_argument("max_samples must be >= 0");
  if (c.calls_per_unit < 1) throw std::invalid_argument("calls_per_unit must be >= 1");
  if (c.max_samples % c.calls_per_unit != 0 || c.max_iterations % c.calls_per_unit != 0)
    throw std::invalid_argument("max_samples and max_iterations must be multiples of calls_per_unit");
  if (!(c.iteration_timeout_s >= 0)) throw std::invalid_argument("iteration timeout must be >= 0");
  if (c.duration_s <= 0 && c.max_iterations == 0)
    throw std::invalid_argument("give a duration > 0 or an iteration cap");
  if (!(c.poll_interval_s > 0)) throw std::invalid_argument("poll interval must be > 0");
  for (const auto& cpus : c.stream_cpus)
    for (int cpu : cpus)
      if (cpu < 0) throw std::invalid_argument("CPU ids must be >= 0");
  if (c.mode == LoopMode::kOpen) check_open_loop(c);
}

int64_t arrivals_dropped(const RunnerConfig& config, int64_t measure_start_ns, int64_t issued) {
  if (config.mode != LoopMode::kOpen || measure_start_ns == 0) return 0;
  const int64_t horizon = seconds_to_ns(config.duration_s);
  const auto due =
      std::lower_bound(config.arrivals_ns.begin(), config.arrivals_ns.end(), horizon) -
      config.arrivals_ns.begin();
  return std::max<int64_t>(0, due - issued);
}

}  // namespace pinbench
