// Native tests of the core: topology, planner, runner (closed and open loop, failures, timeout,
// stop, capped samples) with the native work items, and process isolation (the shared barrier
// across processes, workers that are this binary run with --worker, a worker killed mid-run).
// Built by the sanitizer presets:
//   cmake --preset tsan && cmake --build --preset tsan && ctest --preset tsan
// Prints "N passed, M failed" and exits non-zero on any failure.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <limits>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "affinity.h"
#include "bandwidth.h"
#include "clock.h"
#include "counters.h"
#include "cpu_list.h"
#include "process_runner.h"
#include "shared_barrier.h"
#include "shared_region.h"
#include "stragglers.h"
#include "stream_runner.h"
#include "topology.h"
#include "warmup_watch.h"
#include "work.h"

namespace pb = pinbench;

namespace {

int passed = 0;
int failed = 0;

#define CHECK(cond)                                                         \
  do {                                                                      \
    if (cond) {                                                             \
      ++passed;                                                             \
    } else {                                                                \
      ++failed;                                                             \
      std::fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond); \
    }                                                                       \
  } while (0)

std::string fixtures;

std::vector<std::vector<int>> own_cpus(int streams) {
  const pb::Topology t = pb::read_topology();
  pb::PlanRequest r;
  r.streams = std::min<int>(streams, static_cast<int>(t.cores.size()));
  std::vector<std::vector<int>> cpus;
  for (const auto& p : pb::plan_affinity(t, r)) cpus.push_back(p.cpus);
  while (static_cast<int>(cpus.size()) < streams) cpus.push_back({});
  return cpus;
}

const auto never_stop = [] { return false; };

void test_cpu_lists() {
  CHECK(pb::parse_cpu_list("0-2,5\n") == (std::vector<int>{0, 1, 2, 5}));
  CHECK(pb::format_cpu_list({0, 1, 2, 5, 7, 8}) == "0-2,5,7-8");
  bool threw = false;
  try {
    pb::parse_cpu_list("3-1");
  } catch (const std::invalid_argument&) {
    threw = true;
  }
  CHECK(threw);
}

void test_topology_and_plans() {
  const pb::Topology t = pb::read_topology(fixtures + "/2s_8c_2t");
  CHECK(t.cores.size() == 16 && t.nodes.size() == 2 && t.smt());
  pb::PlanRequest r;
  r.streams = 3;
  const auto plans = pb::plan_affinity(t, r);
  std::vector<int> all;
  for (const auto& p : plans) all.insert(all.end(), p.cpus.begin(), p.cpus.end());
  std::sort(all.begin(), all.end());
  CHECK(std::adjacent_find(all.begin(), all.end()) == all.end());  // disjoint
  CHECK(all.size() == 16);
  const pb::Topology cg = pb::read_topology(fixtures + "/cgroup_2s");
  CHECK(cg.allowed.size() == 16 && cg.cores.size() == 8);
  // The machine itself, cpuset or not: every online CPU.
  const pb::Topology machine = pb::read_machine_topology(fixtures + "/cgroup_2s");
  CHECK(machine.allowed.size() == 32 && machine.cores.size() == 16);
  r.streams = 1;
  r.cores = 9;
  bool threw = false;
  try {
    pb::plan_affinity(cg, r);
  } catch (const std::invalid_argument&) {
    threw = true;
  }
  CHECK(threw);
  CHECK(!pb::read_topology().allowed.empty());
}

void test_hybrid_topology_and_plans() {
  const pb::Topology t = pb::read_topology(fixtures + "/hybrid_4p8e");
  CHECK(t.hybrid() && t.smt() && t.cores.size() == 12);
  CHECK(t.cores.front().type == pb::CoreType::kPerformance);
  CHECK(t.cores.back().type == pb::CoreType::kEfficiency);
  CHECK(std::string(pb::core_type_name(t.cores[4].type)) == "efficiency");
  for (int streams : {1, 2, 3, 4, 5, 12}) {
    pb::PlanRequest r;
    r.streams = streams;
    const auto plans = pb::plan_affinity(t, r);
    CHECK(static_cast<int>(plans.size()) == streams);
    for (const auto& p : plans) {
      CHECK(!p.cores.empty());
      for (int c : p.cores) CHECK(t.cores[static_cast<size_t>(c)].type == t.cores[static_cast<size_t>(p.cores[0])].type);
    }
    CHECK(t.cores[static_cast<size_t>(plans[0].cores[0])].type == pb::CoreType::kPerformance);
  }
  pb::PlanRequest mixed;
  mixed.cores = 6;  // 4 performance + 2 efficiency cores for one stream
  bool threw = false;
  try {
    pb::plan_affinity(t, mixed);
  } catch (const std::invalid_argument&) {
    threw = true;
  }
  CHECK(threw);
  const pb::Topology flat = pb::read_topology(fixtures + "/2s_8c_2t");
  CHECK(!flat.hybrid() && flat.cores.front().type == pb::CoreType::kUnknown);
}

void test_closed_loop_spin() {
  pb::RunnerConfig c;
  c.stream_cpus = own_cpus(2);
  c.warmup_s = 0.02;
  c.duration_s = 0.1;
  auto work = std::make_shared<pb::NativeWorkFactory>(50000);
  const pb::RunResult r = pb::run_streams(c, work, never_stop);
  CHECK(r.failures.empty());
  CHECK(r.streams.size() == 2);
  for (const auto& s : r.streams) {
    CHECK(s.totals.count > 100 && s.starts.size() == static_cast<size_t>(s.totals.count));
    CHECK(s.totals.min_ns >= 50000);
    CHECK(s.starts.empty() || s.starts.back() < r.deadline_ns);
    CHECK(s.warmup_iterations > 0);
  }
}

// A step that throws on its `at`-th call in stream `stream`.
class ThrowingFactory final : public pb::StepFactory {
 public:
  ThrowingFactory(int stream, int at, bool in_factory) : stream_(stream), at_(at), in_factory_(in_factory) {}
  std::unique_ptr<pb::StreamStep> make_step(int stream) override {
    if (in_factory_ && stream == stream_) throw std::runtime_error("factory failed");
    struct Step final : pb::StreamStep {
      Step(bool armed, int at) : armed(armed), at(at) {}
      void run() override {
        if (armed && calls++ == at) throw std::runtime_error("step failed");
      }
      bool armed;
      int at;
      int calls = 0;
    };
    return std::make_unique<Step>(stream == stream_, at_);
  }

 private:
  int stream_, at_;
  bool in_factory_;
};

void test_failures_stop_every_stream() {
  pb::RunnerConfig c;
  c.stream_cpus = own_cpus(2);
  c.duration_s = 30;
  auto f = std::make_shared<ThrowingFactory>(1, 5, false);
  const auto t0 = pb::now_ns();
  pb::RunResult r = pb::run_streams(c, f, never_stop);
  CHECK(pb::now_ns() - t0 < 10'000'000'000LL);
  CHECK(r.failures.size() == 1 && r.failures[0].stream == 1 && r.failures[0].iteration == 5);
  CHECK(r.failures[0].phase == pb::Phase::kMeasure && r.failures[0].message == "step failed");
  c.warmup_s = 5;
  r = pb::run_streams(c, std::make_shared<ThrowingFactory>(0, 0, true), never_stop);
  CHECK(r.failures.size() == 1 && r.failures[0].phase == pb::Phase::kFactory);
}

void test_stop_request() {
  pb::RunnerConfig c;
  c.stream_cpus = own_cpus(2);
  c.duration_s = 30;
  const int64_t t0 = pb::now_ns();
  const auto r = pb::run_streams(c, std::make_shared<pb::NativeWorkFactory>(0),
                                 [t0] { return pb::now_ns() - t0 > 100'000'000; });
  CHECK(r.interrupted && r.failures.empty());
  CHECK(pb::now_ns() - t0 < 5'000'000'000LL);
}

// A step that sleeps for `sleep_ms` on its third call in stream 0.
class SleepyFactory final : public pb::StepFactory {
 public:
  explicit SleepyFactory(int sleep_ms) : sleep_ms_(sleep_ms) {}
  std::unique_ptr<pb::StreamStep> make_step(int stream) override {
    struct Step final : pb::StreamStep {
      Step(bool armed, int ms) : armed(armed), ms(ms) {}
      void run() override {
        if (armed && ++calls == 3) std::this_thread::sleep_for(std::chrono::milliseconds(ms));
      }
      bool armed;
      int ms;
      int calls = 0;
    };
    return std::make_unique<Step>(stream == 0, sleep_ms_);
  }

 private:
  int sleep_ms_;
};

void test_iteration_timeout_abandons_the_stuck_stream() {
  pb::RunnerConfig c;
  c.stream_cpus = own_cpus(2);
  c.duration_s = 30;
  c.iteration_timeout_s = 0.05;
  const auto r = pb::run_streams(c, std::make_shared<SleepyFactory>(400), never_stop);
  CHECK(r.failures.size() == 1 && r.failures[0].timed_out && r.failures[0].stream == 0);
  CHECK(r.failures[0].iteration == 2);
  CHECK(r.streams[0].abandoned && !r.streams[1].abandoned);
  // The abandoned thread is counted until it comes back and ends; the process must not end first.
  CHECK(pb::stragglers() == 1);
  CHECK(pb::straggler_grace_s() == 1.0);  // 0.05 s overrun: the 1 s minimum
  CHECK(pb::wait_for_stragglers(5.0));
  CHECK(pb::stragglers() == 0);
}

// A step that returns just after the timeout: its thread is abandoned and comes back while the
// caller waits for the other stream. Every run must return (the late thread is not counted
// twice, as finished and as abandoned), and every straggler must end. Whether a poll lands
// inside the 1-5 ms between the timeout and the step's return is up to the scheduler (under a
// sanitizer and load, sometimes none does): a run the poll missed ends at its deadline instead,
// so the deadline is short, and most rounds, not all, must have caught the race.
void test_steps_that_come_back_just_after_the_timeout() {
  pb::RunnerConfig c;
  c.stream_cpus = own_cpus(2);
  c.duration_s = 0.5;
  c.iteration_timeout_s = 0.005;
  c.poll_interval_s = 0.001;
  int timed_out = 0;
  for (int round = 0; round < 20; ++round) {
    const auto r = pb::run_streams(c, std::make_shared<SleepyFactory>(6 + round % 5), never_stop);
    if (!r.failures.empty()) {
      CHECK(r.failures.size() == 1 && r.failures[0].timed_out);
      ++timed_out;
    }
  }
  CHECK(timed_out >= 10);
  CHECK(pb::wait_for_stragglers(5.0));
  CHECK(pb::stragglers() == 0);
}

void test_limits_the_runner_cannot_honour() {
  for (double pb::RunnerConfig::*field :
       {&pb::RunnerConfig::warmup_s, &pb::RunnerConfig::duration_s,
        &pb::RunnerConfig::iteration_timeout_s}) {
    pb::RunnerConfig c;
    c.stream_cpus = own_cpus(1);
    c.*field = 1e308;
    bool threw = false;
    try {
      pb::run_streams(c, std::make_shared<pb::NativeWorkFactory>(0), never_stop);
    } catch (const std::invalid_argument&) {
      threw = true;
    }
    CHECK(threw);
  }
}

void test_open_loop() {
  pb::RunnerConfig c;
  c.stream_cpus = own_cpus(2);
  c.duration_s = 0.2;
  c.drain_s = 0.2;
  c.mode = pb::LoopMode::kOpen;
  for (int64_t t = 0; t < 400'000'000; t += 1'000'000) c.arrivals_ns.push_back(t);  // 1000/s
  const auto r = pb::run_streams(c, std::make_shared<pb::NativeWorkFactory>(100000), never_stop);
  CHECK(r.failures.empty());
  int64_t served = 0;
  for (const auto& s : r.streams) {
    served += s.totals.count;
    CHECK(s.scheduled.size() == s.starts.size());
    for (size_t k = 0; k < s.starts.size(); ++k) CHECK(s.starts[k] >= s.scheduled[k]);
  }
  CHECK(served == r.arrivals_issued && served >= 150 && served <= 200);
  CHECK(r.arrivals_issued + r.arrivals_dropped == 200);
}

void test_capped_samples() {
  pb::RunnerConfig c;
  c.stream_cpus = own_cpus(1);
  c.duration_s = 0.1;
  c.max_samples = 64;
  const auto r = pb::run_streams(c, std::make_shared<pb::NativeWorkFactory>(0), never_stop);
  const auto& s = r.streams[0];
  CHECK(s.totals.count > 64 && s.starts.size() == 64 && s.ends.size() == 64);
  for (size_t k = 0; k < s.starts.size(); ++k) CHECK(s.ends[k] >= s.starts[k]);
}

// Units of calls (a generation request): the warmup and the window end between units only, and
// the reservoir keeps whole units, their calls in order.
void test_calls_in_units() {
  pb::RunnerConfig c;
  c.stream_cpus = own_cpus(2);
  c.warmup_s = 0.02;
  c.duration_s = 0.05;
  c.calls_per_unit = 7;
  auto r = pb::run_streams(c, std::make_shared<pb::NativeWorkFactory>(1000), never_stop);
  CHECK(r.failures.empty());
  for (const auto& s : r.streams) {
    CHECK(s.totals.count > 0 && s.totals.count % 7 == 0 && s.warmup_iterations % 7 == 0);
    CHECK(static_cast<int64_t>(s.starts.size()) == s.totals.count);
  }
  c.max_samples = 21;
  r = pb::run_streams(c, std::make_shared<pb::NativeWorkFactory>(1000), never_stop);
  const auto& s = r.streams[0];
  CHECK(s.totals.count > 21 && s.starts.size() == 21);
  for (size_t k = 0; k + 1 < s.starts.size(); ++k)
    if (k % 7 != 6) CHECK(s.ends[k] <= s.starts[k + 1]);  // one unit's calls, in order
  c.max_samples = 20;  // not whole units
  bool refused = false;
  try {
    pb::check_config(c);
  } catch (const std::invalid_argument&) {
    refused = true;
  }
  CHECK(refused);
}

// The open loop with units: an arrival is a whole request; its first call counts from the
// arrival, the later ones from their own start, in order.
void test_open_loop_in_units() {
  pb::RunnerConfig c;
  c.stream_cpus = own_cpus(2);
  c.duration_s = 0.1;
  c.drain_s = 0.2;
  c.mode = pb::LoopMode::kOpen;
  c.calls_per_unit = 3;
  for (int64_t t = 0; t < 100'000'000; t += 2'000'000) c.arrivals_ns.push_back(t);  // 500/s
  const auto r = pb::run_streams(c, std::make_shared<pb::NativeWorkFactory>(1000), never_stop);
  CHECK(r.failures.empty());
  int64_t calls = 0;
  for (const auto& s : r.streams) {
    calls += s.totals.count;
    CHECK(s.totals.count % 3 == 0 && s.scheduled.size() == s.starts.size());
    for (size_t k = 0; k < s.starts.size(); ++k) {
      if (k % 3 == 0) {
        CHECK(s.starts[k] >= s.scheduled[k]);
      } else {
        CHECK(s.scheduled[k] == s.starts[k] && s.starts[k] >= s.ends[k - 1]);
      }
    }
  }
  CHECK(calls == 3 * r.arrivals_issued && r.arrivals_issued + r.arrivals_dropped == 50);
}

// Auto warmup: the cut only moves earlier, and the progress the supervisor reads sums each
// stream's finished warmup calls until one stream leaves its warmup.
void test_warmup_cut_and_progress() {
  pb::RunControl c;
  c.init(1);
  std::vector<pb::StreamWatch> w(2);
  CHECK(!pb::warmup_progress(c, w.data(), 2, pb::now_ns()).warming);  // not begun
  CHECK(c.start.arrive_and_wait());                                    // the one party: released
  w[0].phase.store(static_cast<int>(pb::Phase::kWarmup));
  w[0].iteration.store(41);  // step 41 in flight: 41 finished
  // w[1] still in its factory (released, not yet warming up): none finished
  auto p = pb::warmup_progress(c, w.data(), 2, c.start.release_ns() + 5);
  CHECK(p.warming && p.calls == 41 && p.fewest == 0 && p.elapsed_ns == 5);
  w[1].phase.store(static_cast<int>(pb::Phase::kWarmup));
  w[1].iteration.store(9);
  p = pb::warmup_progress(c, w.data(), 2, pb::now_ns());
  CHECK(p.warming && p.calls == 50 && p.fewest == 9);
  w[1].phase.store(static_cast<int>(pb::Phase::kMeasure));
  CHECK(!pb::warmup_progress(c, w.data(), 2, pb::now_ns()).warming);

  CHECK(c.warmup_cut.load() == pb::kNoWarmupCut);
  c.end_warmup(200);
  c.end_warmup(300);  // later: ignored
  CHECK(c.warmup_cut.load() == 200);
  c.end_warmup(100);
  CHECK(c.warmup_cut.load() == 100);
}

// A WarmupWatch that says "settled" once `calls` warmup calls are done, and records how it was
// asked. Called on the caller's thread only.
struct CountingWatch {
  int64_t settle_at;
  int asked = 0, asked_after_yes = 0;
  int64_t calls_at_yes = -1, last_elapsed = -1;
  bool monotone = true;
  bool operator()(int64_t elapsed, int64_t calls, int64_t fewest) {
    ++asked;
    if (calls_at_yes >= 0) ++asked_after_yes;
    monotone = monotone && elapsed >= last_elapsed && fewest <= calls;
    last_elapsed = elapsed;
    if (calls < settle_at) return false;
    calls_at_yes = calls;
    return true;
  }
};

// The watch ends the warmup of every stream at once, long before warmup_s (the bound), each
// stream between units; it is not asked again; without a yes the bound holds.
void test_auto_warmup_ends_every_stream_between_units() {
  pb::RunnerConfig c;
  c.stream_cpus = own_cpus(2);
  c.warmup_s = 600;  // the bound: reaching it would hang the test for minutes, not pass it
  c.duration_s = 0.05;
  c.poll_interval_s = 0.005;
  c.calls_per_unit = 7;
  auto watch = std::make_shared<CountingWatch>(CountingWatch{200});
  const auto r = pb::run_streams(c, std::make_shared<pb::NativeWorkFactory>(20000), never_stop,
                                 [watch](int64_t e, int64_t n, int64_t f) { return (*watch)(e, n, f); });
  CHECK(r.failures.empty() && !r.interrupted);
  CHECK(watch->calls_at_yes >= 200 && watch->asked_after_yes == 0 && watch->monotone);
  int64_t warmed = 0;
  for (const auto& s : r.streams) {
    CHECK(s.warmup_iterations > 0 && s.warmup_iterations % 7 == 0 && s.totals.count > 0);
    warmed += s.warmup_iterations;
  }
  CHECK(warmed >= watch->calls_at_yes);
  CHECK(r.measure_start_ns - r.warmup_start_ns < 300'000'000'000LL);  // far from the bound

  c.warmup_s = 0.05;  // never settled: the bound ends it
  auto never = std::make_shared<CountingWatch>(CountingWatch{std::numeric_limits<int64_t>::max()});
  const auto b = pb::run_streams(c, std::make_shared<pb::NativeWorkFactory>(20000), never_stop,
                                 [never](int64_t e, int64_t n, int64_t f) { return (*never)(e, n, f); });
  CHECK(b.failures.empty() && never->asked > 0 && never->calls_at_yes == -1);
  CHECK(b.measure_start_ns - b.warmup_start_ns >= 50'000'000);
  for (const auto& s : b.streams) CHECK(s.warmup_iterations % 7 == 0 && s.totals.count > 0);
}

void test_shared_barrier_between_threads() {
  pb::SharedBarrier b;
  b.init(3);
  std::atomic<int> released{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < 2; ++i) threads.emplace_back([&] { released += b.arrive_and_wait(); });
  CHECK(b.arrive_and_wait());
  for (auto& t : threads) t.join();
  CHECK(released == 2 && b.released() && b.release_ns() > 0);
  b.break_all();  // a released barrier stays released
  CHECK(b.released());

  pb::SharedBarrier broken;
  broken.init(3);
  std::thread waiter([&] { released = broken.arrive_and_wait() ? 1 : -1; });
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  broken.break_all();
  waiter.join();
  CHECK(released == -1 && !broken.arrive_and_wait() && broken.release_ns() == 0);
}

// Children forked here meet the parent at the region's barrier; each child stores the release
// time it saw in its watch and exits 0 if the barrier released it (1 if it was broken).
void test_shared_barrier_between_processes() {
  auto region = pb::SharedRegion::create(3);
  std::vector<pid_t> kids;
  for (int i = 1; i < 3; ++i) {
    const pid_t pid = ::fork();
    if (pid == 0) {
      const bool ok = region->control().start.arrive_and_wait();
      region->watches()[i].inflight.store(region->control().start.release_ns());
      ::_exit(ok ? 0 : 1);
    }
    kids.push_back(pid);
  }
  CHECK(region->control().start.arrive_and_wait());
  const int64_t release = region->control().start.release_ns();
  for (size_t k = 0; k < kids.size(); ++k) {
    int status = 0;
    ::waitpid(kids[k], &status, 0);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    CHECK(region->watches()[k + 1].inflight.load() == release);  // one time for every process
  }
  // A party that dies before arriving: the supervisor breaks the barrier, nobody hangs.
  const pid_t waiter = ::fork();
  if (waiter == 0) ::_exit(region->control().measure.arrive_and_wait() ? 0 : 1);
  const pid_t dead = ::fork();
  if (dead == 0) ::_exit(3);
  int status = 0;
  ::waitpid(dead, &status, 0);
  region->control().request_stop();
  ::waitpid(waiter, &status, 0);
  CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 1);
}

std::string self_exe;

// This process's scratch folder for its workers' outputs; removed at the end of main.
std::filesystem::path scratch() {
  return std::filesystem::temp_directory_path() /
         ("pinbench_core_tests_" + std::to_string(::getpid()));
}

// The run every worker of a mode runs; the parent and its --worker children build the same.
pb::RunnerConfig worker_config(const std::string& mode, int streams) {
  pb::RunnerConfig c;
  c.stream_cpus = own_cpus(streams);
  c.warmup_s = mode == "kill" || mode == "hang" ? 0.0 : mode == "auto" ? 600 : 0.02;
  c.duration_s = mode == "stop" || mode == "kill" || mode == "hang" ? 30 : 0.2;
  if (mode == "hang") c.iteration_timeout_s = 0.1;
  if (mode == "open") {
    c.mode = pb::LoopMode::kOpen;
    c.drain_s = 0.2;
    for (int64_t t = 0; t < 400'000'000; t += 1'000'000) c.arrivals_ns.push_back(t);  // 1000/s
  }
  return c;
}

// In stream 1 of mode "kill": SIGKILL at measured iteration 50 (no sanitizer can intercept it);
// in stream 0 of mode "hang": a 5 s step at iteration 3. Otherwise a 20 us spin.
class WorkerFactory final : public pb::StepFactory {
 public:
  explicit WorkerFactory(std::string mode) : mode_(std::move(mode)) {}
  std::unique_ptr<pb::StreamStep> make_step(int stream) override {
    struct Step final : pb::StreamStep {
      Step(int die_at, int hang_at) : die_at(die_at), hang_at(hang_at) {}
      void run() override {
        if (calls == die_at) ::kill(::getpid(), SIGKILL);
        if (calls++ == hang_at) std::this_thread::sleep_for(std::chrono::seconds(5));
        const int64_t end = pb::now_ns() + 20000;
        while (pb::now_ns() < end) {
        }
      }
      int die_at, hang_at, calls = 0;
    };
    return std::make_unique<Step>(mode_ == "kill" && stream == 1 ? 50 : -1,
                                  mode_ == "hang" && stream == 0 ? 3 : -1);
  }

 private:
  std::string mode_;
};

// `--worker MODE STREAMS STREAM OUT`: one worker's side; writes "count issued" to OUT.
int worker_main(char** argv) {
  const std::string mode = argv[2];
  const int streams = std::atoi(argv[3]), stream = std::atoi(argv[4]);
  auto region = pb::SharedRegion::attach(pb::kWorkerRegionFd);
  const auto c = worker_config(mode, streams);
  const auto r = pb::run_stream_in_region(c, std::make_shared<WorkerFactory>(mode), *region, stream);
  const auto& s = r.streams[static_cast<size_t>(stream)];
  std::ofstream(argv[5]) << s.totals.count << " " << s.cpus.size() << " " << r.failures.size()
                         << " " << s.warmup_iterations << "\n";
  region->slot(stream).state.store(static_cast<int>(pb::WorkerState::kDone));
  return 0;
}

struct Workers {
  std::vector<pb::WorkerSpec> specs;
  std::vector<std::string> outs;
};

Workers workers_for(const std::string& mode, int streams) {
  Workers w;
  const std::string dir = scratch().string();
  std::filesystem::create_directories(dir);
  for (int i = 0; i < streams; ++i) {
    const std::string out = dir + "/" + mode + std::to_string(i);
    w.outs.push_back(out);
    w.specs.push_back({{self_exe, "--worker", mode, std::to_string(streams), std::to_string(i), out},
                       out + ".log"});
  }
  return w;
}

int64_t count_in(const std::string& path) {
  int64_t count = -1;
  std::ifstream(path) >> count;
  return count;
}

void test_process_isolation_runs_every_stream() {
  const int n = 2;
  for (const std::string mode : {"closed", "open"}) {
    auto region = pb::SharedRegion::create(n);
    const auto c = worker_config(mode, n);
    const auto w = workers_for(mode, n);
    const auto r = pb::run_processes(c, *region, w.specs, never_stop);
    CHECK(r.failures.empty() && !r.interrupted && r.first_failure == -1);
    CHECK(r.measure_start_ns > r.warmup_start_ns && r.warmup_start_ns > 0);
    int64_t served = 0;
    for (int i = 0; i < n; ++i) {
      CHECK(r.workers[i].reported && r.workers[i].exit_code == 0 && r.workers[i].signal == 0);
      const int64_t count = count_in(w.outs[i]);
      CHECK(count > 0);
      served += count;
    }
    if (mode == "open") {
      CHECK(served == r.arrivals_issued && served >= 150);
      CHECK(r.arrivals_issued + r.arrivals_dropped == 200);
    }
  }
}

void test_process_isolation_worker_killed_mid_run() {
  auto region = pb::SharedRegion::create(2);
  const auto w = workers_for("kill", 2);
  const auto t0 = pb::now_ns();
  const auto r = pb::run_processes(worker_config("kill", 2), *region, w.specs, never_stop);
  CHECK(pb::now_ns() - t0 < 20'000'000'000LL);  // the other stream stopped, nothing hung
  CHECK(r.failures.size() == 1 && r.first_failure == 1);
  CHECK(r.failures[0].stream == 1 && r.failures[0].phase == pb::Phase::kMeasure);
  CHECK(r.failures[0].iteration == 50);
  CHECK(r.failures[0].message.find("signal 9 (SIGKILL)") != std::string::npos);
  CHECK(r.workers[1].signal == SIGKILL && !r.workers[1].reported);
  CHECK(r.workers[0].reported && count_in(w.outs[0]) > 0);
}

// Auto warmup across processes: the supervisor reads the workers' progress in the region and
// cuts their warmup there, long before the bound.
void test_process_isolation_auto_warmup() {
  auto region = pb::SharedRegion::create(2);
  const auto w = workers_for("auto", 2);
  CountingWatch watch{100};
  pb::SharedRegion& shared = *region;
  const auto r = pb::run_processes(worker_config("auto", 2), shared, w.specs, [&] {
    pb::poll_warmup(shared.control(), shared.watches(), 2,
                    [&](int64_t e, int64_t n, int64_t f) { return watch(e, n, f); });
    return false;
  });
  CHECK(r.failures.empty() && watch.calls_at_yes >= 100 && watch.asked_after_yes == 0);
  CHECK(r.measure_start_ns - r.warmup_start_ns < 300'000'000'000LL);
  for (int i = 0; i < 2; ++i) {
    std::ifstream in(w.outs[i]);
    int64_t count = 0, cpus = 0, failures = 0, warmed = 0;
    in >> count >> cpus >> failures >> warmed;
    CHECK(count > 0 && failures == 0 && warmed > 0);
  }
}

void test_process_isolation_timeout_and_stop() {
  auto region = pb::SharedRegion::create(2);
  auto w = workers_for("hang", 2);
  auto r = pb::run_processes(worker_config("hang", 2), *region, w.specs, never_stop);
  CHECK(r.failures.size() == 1 && r.failures[0].timed_out && r.failures[0].stream == 0);
  CHECK(r.failures[0].iteration == 3 && r.workers[0].killed && r.workers[1].reported);

  region = pb::SharedRegion::create(2);
  w = workers_for("stop", 2);
  const int64_t t0 = pb::now_ns();
  r = pb::run_processes(worker_config("stop", 2), *region, w.specs,
                        [t0] { return pb::now_ns() - t0 > 300'000'000; });
  CHECK(r.interrupted && r.failures.empty() && pb::now_ns() - t0 < 10'000'000'000LL);
  for (int i = 0; i < 2; ++i) CHECK(r.workers[i].reported && count_in(w.outs[i]) > 0);
}

void test_last_level_cache_from_sysfs() {
  // 2 sockets, a 30 MiB L3 each: CPUs of one socket share one; both sockets' CPUs count two.
  const pb::LastLevelCache one = pb::read_last_level_cache(fixtures + "/2s_8c_2t", {0, 1, 16});
  CHECK(one.level == 3 && one.bytes_each == 30LL << 20 && one.instances == 1);
  const pb::LastLevelCache two = pb::read_last_level_cache(fixtures + "/2s_8c_2t", {0, 8});
  CHECK(two.instances == 2 && two.total_bytes() == 60LL << 20);
  CHECK(pb::suggested_array_bytes_per_thread(two, 2) == 120LL << 20);  // 4 x 60 MiB over 2
  const pb::LastLevelCache none = pb::read_last_level_cache(fixtures + "/no_numa_4core", {0});
  CHECK(none.level == 0 && none.total_bytes() == 0);
  CHECK(pb::suggested_array_bytes_per_thread(none, 3) % 4096 == 0);
  CHECK(pb::suggested_array_bytes_per_thread(none, 3) * 3 >= 64LL << 20);  // the floor
}

void test_bandwidth_on_given_cpus() {
  const pb::Topology t = pb::read_topology();
  std::vector<int> cpus;
  for (const auto& core : t.cores) cpus.push_back(core.cpus.front());
  if (cpus.size() > 2) cpus.resize(2);
  pb::BandwidthRequest req;
  req.cpus = cpus;
  req.array_bytes_per_thread = 4LL << 20;  // small: a test, not a measurement
  req.repetitions = 2;
  const pb::BandwidthResult r = pb::measure_bandwidth(req);
  CHECK(r.cpus == cpus && r.affinity.size() == cpus.size());
  for (size_t i = 0; i < cpus.size(); ++i) CHECK(r.affinity[i] == std::vector<int>{cpus[i]});
  CHECK(r.array_bytes_per_thread == 4LL << 20 && r.repetitions == 2 && r.arrays == 3);
  CHECK(r.read_gbps > 0 && std::isfinite(r.read_gbps));
  CHECK(r.triad_gbps > 0 && std::isfinite(r.triad_gbps));
  CHECK(r.read_seconds > 0 && r.triad_seconds > 0);
  bool threw = false;
  try {
    req.cpus = {-1};  // cannot pin: an error from inside the thread, not a hang
    pb::measure_bandwidth(req);
  } catch (const std::runtime_error& e) {
    threw = std::string(e.what()).find("CPU -1") != std::string::npos;
  }
  CHECK(threw);
  threw = false;
  try {
    req.cpus = cpus;
    req.repetitions = 0;
    pb::measure_bandwidth(req);
  } catch (const std::invalid_argument&) {
    threw = true;
  }
  CHECK(threw);
}

const pb::CounterReading* reading(const pb::StreamSamples& s, const char* name) {
  for (const auto& r : s.counters)
    if (std::strcmp(r.name, name) == 0) return &r;
  return nullptr;
}

// Runs 2 pinned spin streams with `set` counted; the API as set_perf_api left it.
pb::RunResult counted_run(pb::CounterSet set) {
  pb::RunnerConfig c;
  c.stream_cpus = own_cpus(2);
  c.warmup_s = 0.02;
  c.duration_s = 0.1;
  c.counters = set;
  return pb::run_streams(c, std::make_shared<pb::NativeWorkFactory>(20000), never_stop);
}

// Software events for real: every one either counted or refused with the kernel's reason.
void test_software_counters() {
  const pb::RunResult off = counted_run(pb::CounterSet::kOff);
  CHECK(off.failures.empty() && off.streams[0].counters.empty());
  const pb::RunResult r = counted_run(pb::CounterSet::kSoftware);
  CHECK(r.failures.empty());
  for (const auto& s : r.streams) {
    CHECK(s.counters.size() == 7);  // five perf events and the two switch kinds
    CHECK(reading(s, "cycles") == nullptr);
    const pb::CounterReading* clock = reading(s, "task_clock");
    const pb::CounterReading* invol = reading(s, "involuntary_switches");
    CHECK(clock != nullptr && invol != nullptr && invol->error == 0);
    if (!clock || !invol) continue;
    CHECK(invol->enabled_ns > 0);  // the stream's window, wall clock
    if (clock->error == 0) {
      // A task's software event runs only while the task is on a CPU (enabled = running = its
      // CPU time): the spinning stream's, at most the window.
      CHECK(clock->value > 0 && clock->value <= invol->enabled_ns);
      CHECK(clock->running_ns == clock->enabled_ns);
    } else {
      CHECK(clock->error == EACCES || clock->error == EPERM || clock->error == ENOSYS ||
            clock->error == ENOENT);
    }
    const pb::CounterReading* moved = reading(s, "cpu_migrations");
    CHECK(moved != nullptr && !moved->user_only);
    // Pinned to one CPU before the counters opened: it cannot have moved in the window.
    if (moved && moved->error == 0 && s.cpus.size() == 1) CHECK(moved->value == 0);
  }
}

void test_fake_pmu_answers() {
  pb::set_perf_api(pb::fake_pmu_api(pb::FakePmu::kPresent));
  pb::RunResult r = counted_run(pb::CounterSet::kAll);
  CHECK(r.failures.empty());
  const pb::CounterReading* cycles = reading(r.streams[0], "cycles");
  const pb::CounterReading* instructions = reading(r.streams[0], "instructions");
  CHECK(r.streams[0].counters.size() == 13 && cycles && instructions);
  if (cycles && instructions) {
    CHECK(cycles->error == 0 && cycles->value > 0 && cycles->running_ns == cycles->enabled_ns);
    const double ipc = static_cast<double>(instructions->value) / static_cast<double>(cycles->value);
    CHECK(ipc > 1.9 && ipc < 2.1);
  }
  pb::set_perf_api(pb::fake_pmu_api(pb::FakePmu::kMultiplexed));
  r = counted_run(pb::CounterSet::kAll);
  cycles = reading(r.streams[1], "cycles");
  CHECK(cycles && cycles->enabled_ns > 0 && cycles->running_ns == cycles->enabled_ns / 2);
  for (auto [answer, err] : {std::pair{pb::FakePmu::kNotPermitted, EACCES},
                             std::pair{pb::FakePmu::kAbsent, ENOENT}}) {
    pb::set_perf_api(pb::fake_pmu_api(answer));
    r = counted_run(pb::CounterSet::kAll);
    CHECK(r.failures.empty());
    for (const auto& c : r.streams[0].counters)
      if (c.hardware) CHECK(c.error == err && c.value == 0);
    const pb::CounterReading* clock = reading(r.streams[0], "task_clock");
    CHECK(clock && !clock->hardware);  // software events still went to the kernel
  }
  pb::set_perf_api(nullptr);
  CHECK(std::string(pb::counter_set_name(pb::counter_set_named("software"))) == "software");
  bool threw = false;
  try {
    pb::counter_set_named("hardware");
  } catch (const std::invalid_argument&) {
    threw = true;
  }
  CHECK(threw);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc >= 6 && std::string(argv[1]) == "--worker") return worker_main(argv);
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s SYSFS_FIXTURES_DIR\n", argv[0]);
    return 2;
  }
  fixtures = argv[1];
  char exe[4096];
  const ssize_t len = ::readlink("/proc/self/exe", exe, sizeof(exe) - 1);
  self_exe = len > 0 ? std::string(exe, static_cast<size_t>(len)) : std::string(argv[0]);
  const std::vector<std::pair<const char*, std::function<void()>>> tests = {
      {"cpu_lists", test_cpu_lists},
      {"topology_and_plans", test_topology_and_plans},
      {"hybrid_topology_and_plans", test_hybrid_topology_and_plans},
      {"closed_loop_spin", test_closed_loop_spin},
      {"failures_stop_every_stream", test_failures_stop_every_stream},
      {"stop_request", test_stop_request},
      {"iteration_timeout", test_iteration_timeout_abandons_the_stuck_stream},
      {"late_stragglers", test_steps_that_come_back_just_after_the_timeout},
      {"limits", test_limits_the_runner_cannot_honour},
      {"open_loop", test_open_loop},
      {"capped_samples", test_capped_samples},
      {"calls_in_units", test_calls_in_units},
      {"open_loop_in_units", test_open_loop_in_units},
      {"warmup_cut_and_progress", test_warmup_cut_and_progress},
      {"auto_warmup", test_auto_warmup_ends_every_stream_between_units},
      {"shared_barrier_threads", test_shared_barrier_between_threads},
      {"shared_barrier_processes", test_shared_barrier_between_processes},
      {"processes_run_every_stream", test_process_isolation_runs_every_stream},
      {"processes_worker_killed", test_process_isolation_worker_killed_mid_run},
      {"processes_timeout_and_stop", test_process_isolation_timeout_and_stop},
      {"processes_auto_warmup", test_process_isolation_auto_warmup},
      {"last_level_cache", test_last_level_cache_from_sysfs},
      {"bandwidth", test_bandwidth_on_given_cpus},
      {"software_counters", test_software_counters},
      {"fake_pmu_answers", test_fake_pmu_answers},
  };
  for (const auto& [name, fn] : tests) {
    const int before = failed;
    fn();
    std::printf("%-28s %s\n", name, failed == before ? "ok" : "FAILED");
  }
  std::filesystem::remove_all(scratch());
  std::printf("%d passed, %d failed\n", passed, failed);
  return failed == 0 ? 0 : 1;
}
