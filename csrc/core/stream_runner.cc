#include "stream_runner.h"

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
#include <stdexcept>
#include <thread>

#include "affinity.h"
#include "barrier.h"
#include "clock.h"

namespace pinbench {
namespace {

constexpr int64_t kNoDeadline = std::numeric_limits<int64_t>::max();
constexpr size_t kDefaultReserve = 1 << 14;  // when there was no warmup to estimate the rate from
constexpr size_t kMaxReserve = 1 << 24;      // beyond this the buffers grow on demand

int64_t seconds_to_ns(double s) { return static_cast<int64_t>(std::llround(s * 1e9)); }

void validate(const RunnerConfig& c) {
  if (c.stream_cpus.empty()) throw std::invalid_argument("at least one stream is required");
  if (!(c.warmup_s >= 0) || !std::isfinite(c.warmup_s))
    throw std::invalid_argument("warmup must be a finite number of seconds >= 0");
  if (std::isnan(c.duration_s)) throw std::invalid_argument("duration must be a number");
  if (c.max_iterations < 0) throw std::invalid_argument("max_iterations must be >= 0");
  if (c.duration_s <= 0 && c.max_iterations == 0)
    throw std::invalid_argument("give a duration > 0 or an iteration cap");
  if (!(c.poll_interval_s > 0)) throw std::invalid_argument("poll interval must be > 0");
  for (const auto& cpus : c.stream_cpus)
    for (int cpu : cpus)
      if (cpu < 0) throw std::invalid_argument("CPU ids must be >= 0");
}

// Shared state of one run. Stream threads write their own slots only; the rest is synchronised.
class Run {
 public:
  Run(const RunnerConfig& config, StepFactory& factory)
      : config_(config),
        factory_(factory),
        n_(static_cast<int>(config.stream_cpus.size())),
        start_barrier_(n_),
        measure_barrier_(n_),
        result_() {
    result_.streams.resize(static_cast<size_t>(n_));
  }

  // Body of stream thread `i`. Catches everything: no exception may leave a std::thread.
  void stream_main(int i) noexcept {
    StreamSamples& out = result_.streams[static_cast<size_t>(i)];
    out.thread_id = static_cast<long>(::syscall(SYS_gettid));
    const auto& cpus = config_.stream_cpus[static_cast<size_t>(i)];
    if (!cpus.empty()) {
      const std::string err = pin_current_thread(cpus);
      if (!err.empty()) {
        fail(i, Phase::kPin, -1, std::make_exception_ptr(std::runtime_error(err)));
        finish();
        return;
      }
    }
    try {
      out.cpus = current_affinity();
    } catch (...) {
    }
    factory_.enter_thread(i);
    run_phases(i, out);
    factory_.leave_thread(i);
    finish();
  }

  void request_stop() {
    stop_.store(true, std::memory_order_relaxed);
    start_barrier_.break_all();
    measure_barrier_.break_all();
  }

  // Called by the waiting thread. Returns true when every stream has finished.
  bool wait_done_for(double seconds) {
    std::unique_lock<std::mutex> lock(done_mu_);
    return done_cv_.wait_for(lock, std::chrono::duration<double>(seconds),
                             [this] { return finished_ == n_; });
  }

  RunResult take_result() { return std::move(result_); }
  RunResult& result() { return result_; }

 private:
  void run_phases(int i, StreamSamples& out) {
    std::unique_ptr<StreamStep> step;
    try {
      step = factory_.make_step(i);
      if (!step) throw std::runtime_error("the step factory returned no step");
    } catch (...) {
      fail(i, Phase::kFactory, -1, std::current_exception());
      return;
    }
    if (start_barrier_.arrive_and_wait()) {
      warm_up_and_measure(i, *step, out);
    }
    try {
      step.reset();
    } catch (...) {
    }
  }

  void warm_up_and_measure(int i, StreamStep& step, StreamSamples& out) {
    const int64_t warmup_start = start_barrier_.release_ns();
    if (i == 0) result_.warmup_start_ns = warmup_start;
    const int64_t warmup_end = warmup_start + seconds_to_ns(config_.warmup_s);
    int64_t n = 0;
    int64_t last = warmup_start;
    try {
      while (!stop_.load(std::memory_order_relaxed) && (last = now_ns()) < warmup_end) {
        step.run();
        ++n;
      }
    } catch (...) {
      fail(i, Phase::kWarmup, n, std::current_exception());
      return;
    }
    out.warmup_iterations = n;
    reserve(out, n, last - warmup_start);
    if (!measure_barrier_.arrive_and_wait()) return;

    const int64_t start = measure_barrier_.release_ns();
    const int64_t deadline = config_.duration_s > 0 ? start + seconds_to_ns(config_.duration_s) : kNoDeadline;
    if (i == 0) {
      result_.measure_start_ns = start;
      result_.deadline_ns = deadline;
    }
    measure_closed_loop(i, step, out, deadline);
  }

  // The timed region. Allocates only when the reserve estimate was short.
  void measure_closed_loop(int i, StreamStep& step, StreamSamples& out, int64_t deadline) {
    const int64_t cap = config_.max_iterations > 0 ? config_.max_iterations : kNoDeadline;
    int64_t k = 0;
    try {
      for (; k < cap; ++k) {
        if (stop_.load(std::memory_order_relaxed)) break;
        const int64_t t0 = now_ns();
        if (t0 >= deadline) break;
        step.run();
        const int64_t t1 = now_ns();
        out.starts.push_back(t0);
        out.ends.push_back(t1);
      }
    } catch (...) {
      fail(i, Phase::kMeasure, k, std::current_exception());
    }
  }

  // Sizes the sample buffers from the warmup rate, outside the timed region.
  void reserve(StreamSamples& out, int64_t warmup_iterations, int64_t warmup_ns) {
    size_t want = kDefaultReserve;
    if (warmup_iterations > 0 && warmup_ns > 0 && config_.duration_s > 0) {
      const double rate = static_cast<double>(warmup_iterations) / (static_cast<double>(warmup_ns) * 1e-9);
      want = static_cast<size_t>(rate * config_.duration_s * 1.25) + 64;
    }
    if (config_.max_iterations > 0)
      want = config_.duration_s > 0 && warmup_iterations > 0
                 ? std::min(want, static_cast<size_t>(config_.max_iterations))
                 : static_cast<size_t>(config_.max_iterations);
    want = std::min(want, kMaxReserve);
    out.starts.reserve(want);
    out.ends.reserve(want);
  }

  void fail(int i, Phase phase, int64_t iteration, std::exception_ptr error) noexcept {
    StreamFailure f;
    f.stream = i;
    f.phase = phase;
    f.iteration = iteration;
    f.error = error;
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
    request_stop();
  }

  void finish() noexcept {
    std::lock_guard<std::mutex> lock(done_mu_);
    ++finished_;
    done_cv_.notify_all();
  }

  const RunnerConfig& config_;
  StepFactory& factory_;
  const int n_;
  Barrier start_barrier_;
  Barrier measure_barrier_;
  std::atomic<bool> stop_{false};
  std::mutex fail_mu_;
  std::mutex done_mu_;
  std::condition_variable done_cv_;
  int finished_ = 0;
  RunResult result_;
};

// Joins every started thread when it goes out of scope, however the scope is left.
class ThreadGroup {
 public:
  ~ThreadGroup() {
    for (auto& t : threads_)
      if (t.joinable()) t.join();
  }
  template <class F>
  void spawn(F&& f) { threads_.emplace_back(std::forward<F>(f)); }

 private:
  std::vector<std::thread> threads_;
};

}  // namespace

const char* phase_name(Phase phase) {
  switch (phase) {
    case Phase::kPin: return "pin";
    case Phase::kFactory: return "factory";
    case Phase::kWarmup: return "warmup";
    case Phase::kMeasure: return "measure";
  }
  return "unknown";
}

RunResult run_streams(const RunnerConfig& config, StepFactory& factory,
                      const std::function<bool()>& should_stop) {
  validate(config);
  Run run(config, factory);
  bool interrupted = false;
  {
    ThreadGroup threads;
    const int n = static_cast<int>(config.stream_cpus.size());
    for (int i = 0; i < n; ++i) {
      try {
        threads.spawn([&run, i] { run.stream_main(i); });
      } catch (...) {
        // Could not start a thread: stop those that did, then report.
        run.request_stop();
        throw;
      }
    }
    while (!run.wait_done_for(config.poll_interval_s)) {
      if (!interrupted && should_stop && should_stop()) {
        interrupted = true;
        run.request_stop();
      }
    }
  }
  RunResult result = run.take_result();
  result.interrupted = interrupted;
  return result;
}

}  // namespace pinbench
