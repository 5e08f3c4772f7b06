#include "stream_runner.h"

#include <cxxabi.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <limits>
#include <memory>
#include <mutex>
#include <sstream>
#include <stdexcept>
#include <thread>

#include "affinity.h"
#include "clock.h"
#include "run_control.h"
#include "shared_region.h"
#include "stragglers.h"
#include "warmup_watch.h"

namespace pinbench {
namespace {

constexpr int64_t kNoDeadline = std::numeric_limits<int64_t>::max();
constexpr size_t kDefaultReserve = 1 << 14;      // when there was no warmup to estimate the rate from
constexpr size_t kMaxReserve = 1 << 24;          // beyond this the buffers grow on demand
constexpr int64_t kSpinBeforeArrivalNs = 200000; // open loop: sleep until this close, then spin

// REQUIRES: |s| <= kMaxSeconds (validate() sees to it), so the result and any deadline built
// from it stay far inside int64 ns.
int64_t seconds_to_ns(double s) { return static_cast<int64_t>(std::llround(s * 1e9)); }

void check_seconds(double s, const char* what) {
  if (s > kMaxSeconds)
    throw std::invalid_argument(std::string(what) + " must be at most 1e9 s (int64 nanoseconds)");
}

void validate(const RunnerConfig& c) {
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
  if (c.mode == LoopMode::kOpen) {
    if (c.duration_s <= 0) throw std::invalid_argument("the open loop needs a duration > 0");
    if (!(c.drain_s >= 0)) throw std::invalid_argument("drain time must be >= 0");
    if (!std::is_sorted(c.arrivals_ns.begin(), c.arrivals_ns.end()) ||
        (!c.arrivals_ns.empty() &&
         (c.arrivals_ns.front() < 0 || c.arrivals_ns.back() > seconds_to_ns(kMaxSeconds))))
      throw std::invalid_argument("arrivals must be ascending offsets >= 0, at most 1e9 s");
  }
}

// xorshift64*: a cheap generator for the reservoir's replacement index.
inline uint64_t next_random(uint64_t& s) {
  s ^= s >> 12;
  s ^= s << 25;
  s ^= s >> 27;
  return s * 0x2545F4914F6CDD1DULL;
}

// One stream's reservoir state: the generator, and where the unit being recorded goes
// (-1: dropped).
struct Reservoir {
  uint64_t state;
  int64_t slot = -1;
};

// Shared state of one run, owned jointly by the caller and every stream thread, so that a thread
// left behind in a step that never returns still finds it alive when it comes back.
//
// Where the streams meet (barriers, stop flag, arrival queue) and what they publish (watches) is
// the run's own for thread streams, or a region shared with other processes when `region` is
// given (process isolation: this process then runs one of the region's streams).
class Run {
 public:
  Run(const RunnerConfig& config, std::shared_ptr<StepFactory> factory,
      SharedRegion* region = nullptr)
      : config_(config),
        factory_(std::move(factory)),
        n_(static_cast<int>(config.stream_cpus.size())),
        own_watch_(region ? 0 : static_cast<size_t>(n_)),
        control_(region ? region->control() : own_control_),
        watch_(region ? region->watches() : own_watch_.data()),
        start_barrier_(control_.start),
        measure_barrier_(control_.measure),
        stop_(control_.stop),
        next_arrival_(control_.next_arrival),
        issued_(control_.issued),
        counted_(static_cast<size_t>(n_), false),
        exited_(static_cast<size_t>(n_), false),
        left_behind_(static_cast<size_t>(n_), false) {
    if (!region) own_control_.init(n_);
    result_.streams.resize(static_cast<size_t>(n_));
  }

  // REQUIRES: before any stream thread starts. How many streams this process runs.
  void set_running(int streams) { running_ = streams; }

  // Body of stream thread `i`. Catches every exception: none may leave a std::thread. The one
  // thing let through is the forced unwind of pthread_exit (CPython ends a thread that asks for
  // the GIL once finalization has begun, e.g. an abandoned stream whose step finally returns);
  // swallowing it would abort the process.
  void stream_main(int i) {
    publish(i, Phase::kPin);
    StreamSamples& out = result_.streams[static_cast<size_t>(i)];
    out.thread_id = static_cast<long>(::syscall(SYS_gettid));
    const auto& cpus = config_.stream_cpus[static_cast<size_t>(i)];
    if (!cpus.empty()) {
      const std::string err = pin_current_thread(cpus);
      if (!err.empty()) {
        fail(i, Phase::kPin, -1, std::make_exception_ptr(std::runtime_error(err)));
        finish(i);
        return;
      }
    }
    try {
      out.cpus = current_affinity();
    } catch (const std::exception&) {
    }
    factory_->enter_thread(i);
    run_phases(i, out);
    factory_->leave_thread(i);
    finish(i);
  }

  void request_stop() { control_.request_stop(); }

  // Called by the caller's thread at each poll (auto warmup): see warmup_watch.h.
  void poll_warmup(const WarmupWatch& watch) { pinbench::poll_warmup(control_, watch_, n_, watch); }

  // Called by the caller's thread. True once the streams have met at the measure barrier.
  bool measuring() const { return measure_barrier_.released(); }

  // Called by the caller's thread. True once every stream has finished or been abandoned.
  bool wait_done_for(double seconds) {
    std::unique_lock<std::mutex> lock(done_mu_);
    return done_cv_.wait_for(lock, std::chrono::duration<double>(seconds),
                             [this] { return done_ == running_; });
  }

  // Called by the caller's thread: gives up on steps running past the iteration timeout.
  void check_timeouts() {
    if (config_.iteration_timeout_s <= 0) return;
    const int64_t limit = seconds_to_ns(config_.iteration_timeout_s);
    const int64_t now = now_ns();
    for (int i = 0; i < n_; ++i) {
      StreamWatch& w = watch_[static_cast<size_t>(i)];
      int64_t started = w.inflight.load(std::memory_order_acquire);
      if (started <= kIdle || now - started < limit) continue;
      // The stream may finish its step right now: whoever swaps the start first wins.
      if (!w.inflight.compare_exchange_strong(started, kAbandoned, std::memory_order_acq_rel))
        continue;
      const auto phase = static_cast<Phase>(w.phase.load(std::memory_order_relaxed));
      std::ostringstream what;
      what << "the step did not return within the iteration timeout of "
           << config_.iteration_timeout_s << " s";
      fail(i, phase, w.iteration.load(std::memory_order_relaxed),
           std::make_exception_ptr(std::runtime_error(what.str())), /*timed_out=*/true);
      std::lock_guard<std::mutex> lock(done_mu_);
      result_.streams[static_cast<size_t>(i)].abandoned = true;
      count_done(i);
      done_cv_.notify_all();
    }
  }

  // Called by the caller's thread once every stream has finished or been abandoned: true when
  // stream `i` is to be left behind (abandoned, and its thread still in its step); it is then
  // counted as a straggler until end_thread. False: its thread is ending and is to be joined.
  bool leave_behind(int i) {
    std::lock_guard<std::mutex> lock(done_mu_);
    const auto k = static_cast<size_t>(i);
    if (!result_.streams[k].abandoned || exited_[k]) return false;
    left_behind_[k] = true;
    straggler_left(config_.iteration_timeout_s);
    return true;
  }

  // Called by stream thread `i` as it ends: true when it was left behind (then it must call
  // straggler_ended() once it has released everything, this object included).
  bool end_thread(int i) {
    std::lock_guard<std::mutex> lock(done_mu_);
    exited_[static_cast<size_t>(i)] = true;
    return left_behind_[static_cast<size_t>(i)];
  }

  // REQUIRES: every stream thread has finished or been abandoned.
  RunResult take_result() {
    std::lock_guard<std::mutex> lock(done_mu_);
    RunResult out;
    out.failures = [this] {
      std::lock_guard<std::mutex> fail_lock(fail_mu_);
      return result_.failures;
    }();
    out.warmup_start_ns = result_.warmup_start_ns;
    out.measure_start_ns = result_.measure_start_ns;
    out.deadline_ns = result_.deadline_ns;
    out.arrivals_issued = issued_.load();
    if (config_.mode == LoopMode::kOpen && result_.measure_start_ns != 0) {
      const int64_t horizon = seconds_to_ns(config_.duration_s);
      const auto due = std::lower_bound(config_.arrivals_ns.begin(), config_.arrivals_ns.end(), horizon) -
                       config_.arrivals_ns.begin();
      out.arrivals_dropped = std::max<int64_t>(0, due - out.arrivals_issued);
    }
    for (auto& s : result_.streams) {
      if (s.abandoned) {
        // Its thread lost the swap in watched_run and will touch none of this when its step
        // returns; copy (not move) what it stored before, and leave its own state intact.
        StreamSamples copy;
        copy.starts = s.starts;
        copy.ends = s.ends;
        copy.scheduled = s.scheduled;
        copy.totals = s.totals;
        copy.warmup_iterations = s.warmup_iterations;
        copy.cpus = s.cpus;
        copy.thread_id = s.thread_id;
        copy.step_wait_ns = s.step_wait_ns;
        copy.counters = s.counters;
        copy.abandoned = true;
        out.streams.push_back(std::move(copy));
      } else {
        out.streams.push_back(std::move(s));
      }
    }
    return out;
  }

 private:
  // Publishes the phase stream `i` entered, for its supervisor.
  void publish(int i, Phase phase) {
    StreamWatch& w = watch_[static_cast<size_t>(i)];
    w.iteration.store(-1, std::memory_order_relaxed);
    w.phase.store(static_cast<int>(phase), std::memory_order_release);
  }

  void run_phases(int i, StreamSamples& out) {
    publish(i, Phase::kFactory);
    std::unique_ptr<StreamStep> step;
    // Opened before the factory runs, so that an engine pool it starts inherits them.
    StreamCounters counters;
    try {
      counters.open(config_.counters);
      step = factory_->make_step(i);
      if (!step) throw std::runtime_error("the step factory returned no step");
    } catch (abi::__forced_unwind&) {
      throw;
    } catch (...) {
      fail(i, Phase::kFactory, -1, std::current_exception());
      return;
    }
    if (start_barrier_.arrive_and_wait()) warm_up_and_measure(i, *step, out, counters);
    try {
      step.reset();
    } catch (abi::__forced_unwind&) {
      throw;
    } catch (...) {
    }
  }

  // Runs one step under the watch of the caller's thread. Returns false when the caller gave up
  // on it (iteration timeout) while it ran: then the stream must touch nothing and leave.
  bool watched_run(StreamWatch& w, StreamStep& step, int64_t t0, int64_t iteration) {
    w.iteration.store(iteration, std::memory_order_relaxed);
    w.inflight.store(t0, std::memory_order_release);
    step.clock.started_ns = t0;
    step.run();
    int64_t expected = t0;
    return w.inflight.compare_exchange_strong(expected, kIdle, std::memory_order_acq_rel);
  }

  // A step that threw is no longer in flight; a timed-out one stays abandoned.
  void settle(StreamWatch& w) {
    int64_t started = w.inflight.load(std::memory_order_acquire);
    if (started > kIdle) w.inflight.compare_exchange_strong(started, kIdle);
  }

  bool gave_up(StreamWatch& w) { return w.inflight.load(std::memory_order_acquire) == kAbandoned; }

  void warm_up_and_measure(int i, StreamStep& step, StreamSamples& out, StreamCounters& counters) {
    StreamWatch& w = watch_[static_cast<size_t>(i)];
    const int64_t warmup_start = start_barrier_.release_ns();
    if (i == 0) result_.warmup_start_ns = warmup_start;
    const int64_t warmup_end = warmup_start + seconds_to_ns(config_.warmup_s);
    publish(i, Phase::kWarmup);
    int64_t n = 0;
    int64_t last = warmup_start;
    const int64_t unit = config_.calls_per_unit;
    const std::atomic<int64_t>& cut = control_.warmup_cut;  // auto warmup: the supervisor's end
    try {
      // The clock, the stop flag and the cut are read between units only: a unit is never cut.
      while (n % unit != 0 ||
             (!stop_.load(std::memory_order_relaxed) &&
              (last = now_ns()) < std::min(warmup_end, cut.load(std::memory_order_relaxed)))) {
        if (n % unit != 0) last = now_ns();
        if (!watched_run(w, step, last, n)) return;
        ++n;
      }
    } catch (abi::__forced_unwind&) {
      throw;
    } catch (...) {
      settle(w);
      if (!gave_up(w)) fail(i, Phase::kWarmup, n, std::current_exception());
      return;
    }
    out.warmup_iterations = n;
    reserve(out, n, last - warmup_start);
    if (!measure_barrier_.arrive_and_wait()) return;

    const int64_t start = measure_barrier_.release_ns();
    const int64_t deadline =
        config_.duration_s > 0 ? start + seconds_to_ns(config_.duration_s) : kNoDeadline;
    if (i == 0) {
      result_.measure_start_ns = start;
      result_.deadline_ns = deadline;
    }
    publish(i, Phase::kMeasure);
    step.clock.waited_ns = 0;
    Reservoir rng{(config_.seed + 1) * 0x9E3779B97F4A7C15ULL + static_cast<uint64_t>(i) + 1};
    counters.start();
    try {
      if (config_.mode == LoopMode::kOpen)
        measure_open_loop(w, step, out, rng, start, deadline);
      else
        measure_closed_loop(w, step, out, rng, deadline);
      counters.stop();
      if (!gave_up(w)) {  // abandoned: touch nothing
        out.step_wait_ns = step.clock.timed ? step.clock.waited_ns : -1;
        out.counters = counters.readings();
      }
    } catch (abi::__forced_unwind&) {
      throw;
    } catch (...) {
      settle(w);
      if (!gave_up(w)) fail(i, Phase::kMeasure, out.totals.count, std::current_exception());
    }
  }

  // Adds one measured iteration. `origin` is its start (closed loop) or scheduled arrival (open).
  // The timed region's only allocation: a vector growing past its reserve.
  void record(StreamSamples& out, Reservoir& rng, int64_t origin, int64_t t0, int64_t t1) {
    LatencyTotals& a = out.totals;
    const int64_t latency = t1 - origin;
    if (a.count == 0) {
      a.min_ns = a.max_ns = latency;
      a.first_start_ns = origin;
    } else {
      a.min_ns = std::min(a.min_ns, latency);
      a.max_ns = std::max(a.max_ns, latency);
    }
    a.sum_ns += latency;
    a.sum_sq_ns += static_cast<double>(latency) * static_cast<double>(latency);
    a.last_end_ns = std::max(a.last_end_ns, t1);
    ++a.count;
    const bool open = config_.mode == LoopMode::kOpen;
    if (config_.max_samples == 0 || a.count <= config_.max_samples) {
      out.starts.push_back(t0);
      out.ends.push_back(t1);
      if (open) out.scheduled.push_back(origin);
      return;
    }
    // Reservoir sampling (algorithm R) over units: each unit so far is stored with equal
    // probability, its calls together; the slot is drawn at the unit's first call.
    const int64_t unit = config_.calls_per_unit;
    const int64_t position = (a.count - 1) % unit;
    if (position == 0) {
      const uint64_t units = static_cast<uint64_t>((a.count - 1) / unit + 1);
      const uint64_t j = next_random(rng.state) % units;
      rng.slot = j < static_cast<uint64_t>(config_.max_samples / unit)
                     ? static_cast<int64_t>(j) * unit
                     : -1;
    }
    if (rng.slot >= 0) {
      const auto k = static_cast<size_t>(rng.slot + position);
      out.starts[k] = t0;
      out.ends[k] = t1;
      if (open) out.scheduled[k] = origin;
    }
  }

  void measure_closed_loop(StreamWatch& w, StreamStep& step, StreamSamples& out, Reservoir& rng,
                           int64_t deadline) {
    const int64_t cap = config_.max_iterations > 0 ? config_.max_iterations : kNoDeadline;
    const int64_t unit = config_.calls_per_unit;
    for (int64_t k = 0; k < cap; ++k) {
      const bool boundary = k % unit == 0;  // a unit in flight is finished, whatever happens
      if (boundary && stop_.load(std::memory_order_relaxed)) break;
      const int64_t t0 = now_ns();
      if (boundary && t0 >= deadline) break;
      if (!watched_run(w, step, t0, k)) return;
      record(out, rng, t0, t0, now_ns());
    }
  }

  // Sleeps, then spins, until `when`. False if a stop was requested meanwhile.
  bool wait_until(int64_t when) {
    for (;;) {
      if (stop_.load(std::memory_order_relaxed)) return false;
      const int64_t left = when - now_ns();
      if (left <= 0) return true;
      if (left > kSpinBeforeArrivalNs)
        std::this_thread::sleep_for(std::chrono::nanoseconds(
            std::min<int64_t>(left - kSpinBeforeArrivalNs / 2, 2000000)));
    }
  }

  void measure_open_loop(StreamWatch& w, StreamStep& step, StreamSamples& out, Reservoir& rng,
                         int64_t start, int64_t deadline) {
    const auto& arrivals = config_.arrivals_ns;
    const int64_t drain_end = deadline + seconds_to_ns(config_.drain_s);
    const int64_t unit = config_.calls_per_unit;
    while (!stop_.load(std::memory_order_relaxed)) {
      const auto idx = next_arrival_.fetch_add(1, std::memory_order_relaxed);
      if (idx >= arrivals.size()) break;
      const int64_t scheduled = start + arrivals[idx];
      if (scheduled >= deadline) break;  // arrivals ascend: none later is due either
      if (!wait_until(scheduled)) break;
      const int64_t t0 = now_ns();
      if (t0 >= drain_end) break;  // the backlog outlived the drain time: the rest is dropped
      issued_.fetch_add(1, std::memory_order_relaxed);
      // An arrival is one unit (a generation request: its calls back to back, never cut). Its
      // first call counts from the scheduled arrival (queueing included), the later ones from
      // their own start: each call's latency is then its own, and the request's time to first
      // token and its end are both read from the arrival.
      for (int64_t c = 0; c < unit; ++c) {
        const int64_t t = c == 0 ? t0 : now_ns();
        if (!watched_run(w, step, t, out.totals.count)) return;
        record(out, rng, c == 0 ? scheduled : t, t, now_ns());
      }
    }
  }

  // Sizes the sample buffers from the warmup rate, outside the timed region.
  void reserve(StreamSamples& out, int64_t warmup_iterations, int64_t warmup_ns) {
    size_t want = kDefaultReserve;
    if (config_.mode == LoopMode::kOpen) {
      want = (config_.arrivals_ns.size() / static_cast<size_t>(n_) + 64) *
             static_cast<size_t>(config_.calls_per_unit);
    } else if (warmup_iterations > 0 && warmup_ns > 0 && config_.duration_s > 0) {
      const double rate =
          static_cast<double>(warmup_iterations) / (static_cast<double>(warmup_ns) * 1e-9);
      want = static_cast<size_t>(rate * config_.duration_s * 1.25) + 64;
    }
    if (config_.max_iterations > 0 && config_.mode == LoopMode::kClosed)
      want = config_.duration_s > 0 && warmup_iterations > 0
                 ? std::min(want, static_cast<size_t>(config_.max_iterations))
                 : static_cast<size_t>(config_.max_iterations);
    if (config_.max_samples > 0) want = std::min(want, static_cast<size_t>(config_.max_samples));
    want = std::min(want, kMaxReserve);
    out.starts.reserve(want);
    out.ends.reserve(want);
    if (config_.mode == LoopMode::kOpen) out.scheduled.reserve(want);
  }

  void fail(int i, Phase phase, int64_t iteration, std::exception_ptr error,
            bool timed_out = false) noexcept {
    StreamFailure f;
    f.stream = i;
    f.phase = phase;
    f.iteration = iteration;
    f.error = error;
    f.timed_out = timed_out;
    try {
      std::rethrow_exception(error);
    } catch (const std::exception& e) {
      f.message = e.what();
    } catch (...) {
      f.message = "unknown error";
    }
    {
      std::lock_guard<std::mutex> lock(fail_mu_);
      result_.failures.push_back(std::move(f));
    }
    int none = -1;
    control_.first_failure.compare_exchange_strong(none, i, std::memory_order_acq_rel);
    request_stop();
  }

  void finish(int i) noexcept {
    std::lock_guard<std::mutex> lock(done_mu_);
    count_done(i);
    done_cv_.notify_all();
  }

  // REQUIRES: done_mu_ held. Each stream counts once toward done_ == n_, whether it finished or
  // was abandoned, in either order: an abandoned step may come back and end its thread before
  // the caller's thread has marked it abandoned.
  void count_done(int i) {
    if (counted_[static_cast<size_t>(i)]) return;
    counted_[static_cast<size_t>(i)] = true;
    ++done_;
  }

  const RunnerConfig config_;  // a copy: an abandoned thread may outlive the caller's
  std::shared_ptr<StepFactory> factory_;
  const int n_;
  int running_ = n_;  // streams this process runs: all of them, or one (process isolation)
  RunControl own_control_;
  std::vector<StreamWatch> own_watch_;
  RunControl& control_;  // own_control_, or the shared region's
  StreamWatch* watch_;   // n_ of them: own_watch_'s, or the shared region's
  SharedBarrier& start_barrier_;
  SharedBarrier& measure_barrier_;
  std::atomic<bool>& stop_;
  std::atomic<size_t>& next_arrival_;
  std::atomic<int64_t>& issued_;
  std::mutex fail_mu_;
  std::mutex done_mu_;
  std::condition_variable done_cv_;
  int done_ = 0;                   // under done_mu_: streams finished or abandoned
  std::vector<bool> counted_;      // under done_mu_: this stream is counted in done_
  std::vector<bool> exited_;       // under done_mu_: the thread has left stream_main
  std::vector<bool> left_behind_;  // under done_mu_: detached and counted as a straggler
  RunResult result_;
};

}  // namespace

const char* phase_name(Phase phase) {
  switch (phase) {
    case Phase::kPin: return "pin";
    case Phase::kFactory: return "factory";
    case Phase::kWarmup: return "warmup";
    case Phase::kMeasure: return "measure";
    case Phase::kStart: return "start";
  }
  return "unknown";
}

namespace {

// Runs `streams` of `run` on threads of their own and waits for them (see run_streams).
RunResult run_threads(const std::shared_ptr<Run>& run, const std::vector<int>& streams,
                      const RunnerConfig& config, const std::function<bool()>& should_stop,
                      const WarmupWatch& warmup_watch = {},
                      const std::function<void()>& on_measure = nullptr) {
  std::vector<std::thread> threads;
  threads.reserve(streams.size());
  run->set_running(static_cast<int>(streams.size()));
  bool interrupted = false;
  // Joins every thread started, except those left behind in a step past the timeout: those are
  // detached (each holds `run`; see watched_run) and counted until they end.
  const auto release = [&run, &threads, &streams] {
    for (size_t k = 0; k < threads.size(); ++k) {
      if (run->leave_behind(streams[k]))
        threads[k].detach();
      else
        threads[k].join();
    }
  };
  try {
    for (int i : streams)
      threads.emplace_back([shared = run, i]() mutable {
        shared->stream_main(i);
        const bool left_behind = shared->end_thread(i);
        shared.reset();  // may be the last owner: the factory (and what it holds) goes here
        if (left_behind) straggler_ended();
      });
    bool announced = false;
    while (!run->wait_done_for(config.poll_interval_s)) {
      run->check_timeouts();
      run->poll_warmup(warmup_watch);
      if (!announced && on_measure && run->measuring()) {
        announced = true;
        on_measure();  // before should_stop: a signal that came during it is seen at once
      }
      if (!interrupted && should_stop && should_stop()) {
        interrupted = true;
        run->request_stop();
      }
    }
  } catch (...) {
    // Could not start a thread (or should_stop threw): stop those that did, wait, report.
    run->request_stop();
    release();
    throw;
  }
  release();
  RunResult result = run->take_result();
  result.interrupted = interrupted;
  return result;
}

}  // namespace

void check_config(const RunnerConfig& config) { validate(config); }

RunResult run_streams(const RunnerConfig& config, std::shared_ptr<StepFactory> factory,
                      const std::function<bool()>& should_stop, const WarmupWatch& warmup_watch,
                      const std::function<void()>& on_measure) {
  validate(config);
  if (!factory) throw std::invalid_argument("no step factory");
  auto run = std::make_shared<Run>(config, std::move(factory));
  std::vector<int> all(config.stream_cpus.size());
  for (size_t i = 0; i < all.size(); ++i) all[i] = static_cast<int>(i);
  return run_threads(run, all, config, should_stop, warmup_watch, on_measure);
}

RunResult run_stream_in_region(const RunnerConfig& config, std::shared_ptr<StepFactory> factory,
                               SharedRegion& region, int stream) {
  validate(config);
  if (!factory) throw std::invalid_argument("no step factory");
  if (region.streams() != static_cast<int>(config.stream_cpus.size()) || stream < 0 ||
      stream >= region.streams())
    throw std::invalid_argument("the stream and its shared region do not match the config");
  RunnerConfig own = config;
  own.iteration_timeout_s = 0.0;  // the supervisor's to police
  region.slot(stream).state.store(static_cast<int>(WorkerState::kRunning),
                                  std::memory_order_release);
  auto run = std::make_shared<Run>(own, std::move(factory), &region);
  return run_threads(run, {stream}, own, nullptr);
}

}  // namespace pinbench
