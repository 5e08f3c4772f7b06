#include "stream_runner.h"

#include <cxxabi.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <limits>
#include <memory>
#include <mutex>
#include <sstream>
#include <stdexcept>
#include <thread>

#include "affinity.h"
#include "clock.h"
#include "counters.h"
#include "run_control.h"
#include "sample_recorder.h"
#include "shared_region.h"
#include "stragglers.h"
#include "stream_exits.h"
#include "stream_loops.h"
#include "warmup_watch.h"

namespace pinbench {
namespace {

constexpr int64_t kNoDeadline = std::numeric_limits<int64_t>::max();

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
        exits_(n_) {
    if (!region) own_control_.init(n_);
    result_.streams.resize(static_cast<size_t>(n_));
  }

  // REQUIRES: before any stream thread starts. How many streams this process runs.
  void set_running(int streams) { exits_.set_running(streams); }

  // Body of stream thread `i`. Catches every exception: none may leave a std::thread. The one
  // thing let through is the forced unwind of pthread_exit (CPython ends a thread that asks for
  // the GIL once finalization has begun, e.g. an abandoned stream whose step finally returns);
  // swallowing it would abort the process.
  void stream_main(int i) {
    publish(i, Phase::kPin);
    StreamSamples& out = result_.streams[static_cast<size_t>(i)];
    out.thread_id = static_cast<long>(::syscall(SYS_gettid));
    out.pid = static_cast<int>(::getpid());
    const auto& cpus = config_.stream_cpus[static_cast<size_t>(i)];
    if (!cpus.empty()) {
      const std::string err = pin_current_thread(cpus);
      if (!err.empty()) {
        fail(i, Phase::kPin, -1, std::make_exception_ptr(std::runtime_error(err)));
        exits_.finished(i);
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
    exits_.finished(i);
  }

  void request_stop() { control_.request_stop(); }

  // Called by the caller's thread at each poll (auto warmup): see warmup_watch.h.
  void poll_warmup(const WarmupWatch& watch) { pinbench::poll_warmup(control_, watch_, n_, watch); }

  // Called by the caller's thread. True once the streams have met at the measure barrier.
  bool measuring() const { return measure_barrier_.released(); }

  // Called by the caller's thread. True once every stream has finished or been abandoned.
  bool wait_done_for(double seconds) { return exits_.wait_all_for(seconds); }

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
      exits_.abandon(i);
    }
  }

  // See StreamExits::leave_behind and end_thread.
  bool leave_behind(int i) { return exits_.leave_behind(i, config_.iteration_timeout_s); }
  bool end_thread(int i) { return exits_.end_thread(i); }

  // REQUIRES: every stream thread has finished or been abandoned.
  RunResult take_result() {
    RunResult out;
    out.failures = [this] {
      std::lock_guard<std::mutex> fail_lock(fail_mu_);
      return result_.failures;
    }();
    out.warmup_start_ns = result_.warmup_start_ns;
    out.measure_start_ns = result_.measure_start_ns;
    out.deadline_ns = result_.deadline_ns;
    out.first_failure = control_.first_failure.load(std::memory_order_acquire);
    out.arrivals_issued = control_.issued.load();
    out.arrivals_dropped = arrivals_dropped(config_, result_.measure_start_ns, out.arrivals_issued);
    for (size_t k = 0; k < result_.streams.size(); ++k) {
      StreamSamples& s = result_.streams[k];
      if (exits_.abandoned(static_cast<int>(k))) {
        // Its thread lost the swap in watched_run and will touch none of this when its step
        // returns; copy (not move) what it stored before, and leave its own state intact.
        StreamSamples copy = s;
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
  void publish(int i, Phase phase) { publish_phase(watch_[static_cast<size_t>(i)], phase); }

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

  void warm_up_and_measure(int i, StreamStep& step, StreamSamples& out, StreamCounters& counters) {
    StreamLoops loops(config_, control_, watch_[static_cast<size_t>(i)], step);
    const int64_t warmup_start = start_barrier_.release_ns();
    if (i == 0) result_.warmup_start_ns = warmup_start;
    publish(i, Phase::kWarmup);
    try {
      if (!loops.warm_up(warmup_start)) return;
    } catch (abi::__forced_unwind&) {
      throw;
    } catch (...) {
      loops.settle();
      if (!loops.gave_up()) fail(i, Phase::kWarmup, loops.iterations(), std::current_exception());
      return;
    }
    out.warmup_iterations = loops.iterations();
    SampleRecorder recorder(config_, i, n_, out);
    recorder.reserve(loops.iterations(), loops.last_start_ns() - warmup_start);
    if (!measure_barrier_.arrive_and_wait()) return;

    const int64_t start = measure_barrier_.release_ns();
    const int64_t deadline =
        config_.duration_s > 0 ? start + seconds_to_ns(config_.duration_s) : kNoDeadline;
    if (i == 0) {
      result_.measure_start_ns = start;
      result_.deadline_ns = deadline;
    }
    publish(i, Phase::kMeasure);
    counters.start();
    try {
      loops.measure(start, deadline, recorder);
      counters.stop();
      if (!loops.gave_up()) {  // abandoned: touch nothing
        out.step_wait_ns = step.clock.timed ? step.clock.waited_ns : -1;
        out.counters = counters.readings();
      }
    } catch (abi::__forced_unwind&) {
      throw;
    } catch (...) {
      loops.settle();
      if (!loops.gave_up()) fail(i, Phase::kMeasure, recorder.count(), std::current_exception());
    }
  }

  void fail(int i, Phase phase, int64_t iteration, std::exception_ptr error,
            bool timed_out = false) noexcept {
    StreamFailure f = make_failure(i, phase, iteration, std::move(error), timed_out);
    {
      std::lock_guard<std::mutex> lock(fail_mu_);
      result_.failures.push_back(std::move(f));
    }
    int none = -1;
    control_.first_failure.compare_exchange_strong(none, i, std::memory_order_acq_rel);
    request_stop();
  }

  const RunnerConfig config_;  // a copy: an abandoned thread may outlive the caller's
  std::shared_ptr<StepFactory> factory_;
  const int n_;
  RunControl own_control_;
  std::vector<StreamWatch> own_watch_;
  RunControl& control_;  // own_control_, or the shared region's
  StreamWatch* watch_;   // n_ of them: own_watch_'s, or the shared region's
  SharedBarrier& start_barrier_;
  SharedBarrier& measure_barrier_;
  std::mutex fail_mu_;
  StreamExits exits_;
  RunResult result_;
};

}  // namespace

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

RunResult run_streams(const RunnerConfig& config, std::shared_ptr<StepFactory> factory,
                      const std::function<bool()>& should_stop, const WarmupWatch& warmup_watch,
                      const std::function<void()>& on_measure) {
  check_config(config);
  if (!factory) throw std::invalid_argument("no step factory");
  auto run = std::make_shared<Run>(config, std::move(factory));
  std::vector<int> all(config.stream_cpus.size());
  for (size_t i = 0; i < all.size(); ++i) all[i] = static_cast<int>(i);
  return run_threads(run, all, config, should_stop, warmup_watch, on_measure);
}

RunResult run_stream_in_region(const RunnerConfig& config, std::shared_ptr<StepFactory> factory,
                               SharedRegion& region, int stream) {
  check_config(config);
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
