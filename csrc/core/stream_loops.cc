#include "stream_loops.h"

#include <algorithm>
#include <chrono>
#include <limits>
#include <thread>

#include "clock.h"

namespace pinbench {
namespace {

constexpr int64_t kNoCap = std::numeric_limits<int64_t>::max();
constexpr int64_t kSpinBeforeArrivalNs = 200000;  // open loop: sleep until this close, then spin

}  // namespace

void publish_phase(StreamWatch& watch, Phase phase) {
  watch.iteration.store(-1, std::memory_order_relaxed);
  watch.phase.store(static_cast<int>(phase), std::memory_order_release);
}

StreamLoops::StreamLoops(const RunnerConfig& config, RunControl& control, StreamWatch& watch,
                         StreamStep& step)
    : config_(config), control_(control), watch_(watch), step_(step) {}

// Runs one step under the watch of the supervisor. Returns false when the supervisor gave up on
// it (iteration timeout) while it ran.
bool StreamLoops::watched_run(int64_t t0, int64_t iteration) {
  watch_.iteration.store(iteration, std::memory_order_relaxed);
  watch_.inflight.store(t0, std::memory_order_release);
  step_.clock.started_ns = t0;
  step_.run();
  int64_t expected = t0;
  return watch_.inflight.compare_exchange_strong(expected, kIdle, std::memory_order_acq_rel);
}

void StreamLoops::settle() {
  int64_t started = watch_.inflight.load(std::memory_order_acquire);
  if (started > kIdle) watch_.inflight.compare_exchange_strong(started, kIdle);
}

bool StreamLoops::gave_up() const {
  return watch_.inflight.load(std::memory_order_acquire) == kAbandoned;
}

bool StreamLoops::warm_up(int64_t start_ns) {
  const int64_t warmup_end = start_ns + seconds_to_ns(config_.warmup_s);
  const int64_t unit = config_.calls_per_unit;
  const std::atomic<int64_t>& cut = control_.warmup_cut;  // auto warmup: the supervisor's end
  const std::atomic<bool>& stop = control_.stop;
  int64_t& n = iterations_;
  int64_t& last = last_start_ns_;
  n = 0;
  last = start_ns;
  // The clock, the stop flag and the cut are read between units only: a unit is never cut.
  while (n % unit != 0 ||
         (!stop.load(std::memory_order_relaxed) &&
          (last = now_ns()) < std::min(warmup_end, cut.load(std::memory_order_relaxed)))) {
    if (n % unit != 0) last = now_ns();
    if (!watched_run(last, n)) return false;
    ++n;
  }
  return true;
}

bool StreamLoops::measure(int64_t start_ns, int64_t deadline_ns, SampleRecorder& recorder) {
  step_.clock.waited_ns = 0;
  return config_.mode == LoopMode::kOpen ? measure_open_loop(start_ns, deadline_ns, recorder)
                                         : measure_closed_loop(deadline_ns, recorder);
}

bool StreamLoops::measure_closed_loop(int64_t deadline_ns, SampleRecorder& recorder) {
  const int64_t cap = config_.max_iterations > 0 ? config_.max_iterations : kNoCap;
  const int64_t unit = config_.calls_per_unit;
  const std::atomic<bool>& stop = control_.stop;
  for (int64_t k = 0; k < cap; ++k) {
    const bool boundary = k % unit == 0;  // a unit in flight is finished, whatever happens
    if (boundary && stop.load(std::memory_order_relaxed)) break;
    const int64_t t0 = now_ns();
    if (boundary && t0 >= deadline_ns) break;
    if (!watched_run(t0, k)) return false;
    recorder.record(t0, t0, now_ns());
  }
  return true;
}

// Sleeps, then spins, until `when_ns`. False if a stop was requested meanwhile.
bool StreamLoops::wait_until(int64_t when_ns) const {
  for (;;) {
    if (control_.stop.load(std::memory_order_relaxed)) return false;
    const int64_t left = when_ns - now_ns();
    if (left <= 0) return true;
    if (left > kSpinBeforeArrivalNs)
      std::this_thread::sleep_for(
          std::chrono::nanoseconds(std::min<int64_t>(left - kSpinBeforeArrivalNs / 2, 2000000)));
  }
}

bool StreamLoops::measure_open_loop(int64_t start_ns, int64_t deadline_ns,
                                    SampleRecorder& recorder) {
  const auto& arrivals = config_.arrivals_ns;
  const int64_t drain_end = deadline_ns + seconds_to_ns(config_.drain_s);
  const int64_t unit = config_.calls_per_unit;
  while (!control_.stop.load(std::memory_order_relaxed)) {
    const auto idx = control_.next_arrival.fetch_add(1, std::memory_order_relaxed);
    if (idx >= arrivals.size()) break;
    const int64_t scheduled = start_ns + arrivals[idx];
    if (scheduled >= deadline_ns) break;  // arrivals ascend: none later is due either
    if (!wait_until(scheduled)) break;
    const int64_t t0 = now_ns();
    if (t0 >= drain_end) break;  // the backlog outlived the drain time: the rest is dropped
    control_.issued.fetch_add(1, std::memory_order_relaxed);
    // An arrival is one unit (a generation request: its calls back to back, never cut). Its
    // first call counts from the scheduled arrival (queueing included), the later ones from
    // their own start: each call's latency is then its own, and the request's time to first
    // token and its end are both read from the arrival.
    for (int64_t c = 0; c < unit; ++c) {
      const int64_t t = c == 0 ? t0 : now_ns();
      if (!watched_run(t, recorder.count())) return false;
      recorder.record(c == 0 ? scheduled : t, t, now_ns());
    }
  }
  return true;
}

}  // namespace pinbench
