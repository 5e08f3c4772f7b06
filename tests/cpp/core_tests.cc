// Native tests of the core: topology, planner, runner (closed and open loop, failures, timeout,
// stop, capped samples) with the native work items. Built by the sanitizer presets:
//   cmake --preset tsan && cmake --build --preset tsan && ctest --preset tsan
// Prints "N passed, M failed" and exits non-zero on any failure.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <functional>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "affinity.h"
#include "clock.h"
#include "cpu_list.h"
#include "stragglers.h"
#include "stream_runner.h"
#include "topology.h"
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
// twice, as finished and as abandoned), and every straggler must end.
void test_steps_that_come_back_just_after_the_timeout() {
  pb::RunnerConfig c;
  c.stream_cpus = own_cpus(2);
  c.duration_s = 30;
  c.iteration_timeout_s = 0.005;
  c.poll_interval_s = 0.001;
  for (int round = 0; round < 20; ++round) {
    const auto r = pb::run_streams(c, std::make_shared<SleepyFactory>(6 + round % 5), never_stop);
    CHECK(!r.failures.empty() && r.failures[0].timed_out);
  }
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

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s SYSFS_FIXTURES_DIR\n", argv[0]);
    return 2;
  }
  fixtures = argv[1];
  const std::vector<std::pair<const char*, std::function<void()>>> tests = {
      {"cpu_lists", test_cpu_lists},
      {"topology_and_plans", test_topology_and_plans},
      {"closed_loop_spin", test_closed_loop_spin},
      {"failures_stop_every_stream", test_failures_stop_every_stream},
      {"stop_request", test_stop_request},
      {"iteration_timeout", test_iteration_timeout_abandons_the_stuck_stream},
      {"late_stragglers", test_steps_that_come_back_just_after_the_timeout},
      {"limits", test_limits_the_runner_cannot_honour},
      {"open_loop", test_open_loop},
      {"capped_samples", test_capped_samples},
  };
  for (const auto& [name, fn] : tests) {
    const int before = failed;
    fn();
    std::printf("%-28s %s\n", name, failed == before ? "ok" : "FAILED");
  }
  std::printf("%d passed, %d failed\n", passed, failed);
  return failed == 0 ? 0 : 1;
}
