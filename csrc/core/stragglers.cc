#include "stragglers.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <thread>

#include "clock.h"

namespace pinbench {
namespace {

constexpr double kMinGraceS = 1.0;
constexpr double kMaxGraceS = 10.0;
constexpr auto kPoll = std::chrono::milliseconds(5);

// Atomics only, with trivial destructors: a straggler may end while static destructors run.
std::atomic<int> running{0};
std::atomic<int64_t> longest_timeout_ns{0};

}  // namespace

int stragglers() { return running.load(std::memory_order_acquire); }

double straggler_grace_s() {
  const double longest = static_cast<double>(longest_timeout_ns.load()) * 1e-9;
  return std::clamp(longest, kMinGraceS, kMaxGraceS);
}

bool wait_for_stragglers(double seconds) {
  if (seconds < 0) seconds = straggler_grace_s();
  const int64_t deadline = now_ns() + static_cast<int64_t>(std::min(seconds, kMaxSeconds) * 1e9);
  while (stragglers() > 0) {
    if (now_ns() >= deadline) return false;
    std::this_thread::sleep_for(kPoll);
  }
  return true;
}

void straggler_left(double timeout_s) {
  running.fetch_add(1, std::memory_order_acq_rel);
  const auto ns = static_cast<int64_t>(std::min(timeout_s, kMaxGraceS) * 1e9);
  int64_t seen = longest_timeout_ns.load();
  while (ns > seen && !longest_timeout_ns.compare_exchange_weak(seen, ns)) {
  }
}

void straggler_ended() { running.fetch_sub(1, std::memory_order_acq_rel); }

}  // namespace pinbench
