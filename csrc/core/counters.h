// What the CPU did during one stream's measured window: perf_event_open counters per stream
// thread, plus the stream thread's voluntary and involuntary context switches (getrusage).
//
// Per stream thread, in order (StreamCounters): open() after pinning and before the step factory
// runs, so an engine pool that the factory starts inherits the counters (they count the stream
// thread and every thread it starts, as `perf stat` counts a command); start() when the window
// opens; stop() when the stream's last measured iteration has ended; readings() after that.
// start() and stop() allocate nothing and log nothing: they run at the window's edges.
//
// Kernel-side events (context switches, migrations) can only be counted with the kernel included;
// where perf_event_paranoid forbids that, the other events fall back to user space only and
// those two are reported as not permitted (a user-only count of them would always read 0).
//
// The syscalls go through PerfApi, so that tests can stand in for a PMU this machine lacks
// (set_perf_api); the default is the kernel's.
#pragma once

#include <linux/perf_event.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace pinbench {

// Which events a run opens.
//  kOff:      none.
//  kSoftware: the kernel's software events and the thread's context switch split.
//  kAll:      those, and the hardware events where the PMU allows (one reading per event
//             either way: an event that cannot be opened carries its errno).
enum class CounterSet { kOff, kSoftware, kAll };
const char* counter_set_name(CounterSet set);  // "off", "software", "all"
// Throws std::invalid_argument for any other name.
CounterSet counter_set_named(const std::string& name);

struct CounterReading {
  const char* name = "";   // static storage: "cycles", "cpu_migrations", ...
  bool hardware = false;   // a PMU event (may be absent, or multiplexed)
  int error = 0;           // errno of the open (EACCES, ENOENT, ...); 0 = counted
  bool user_only = false;  // counted with the kernel excluded (perf_event_paranoid)
  uint64_t value = 0;      // raw count over the time it ran (ns for task_clock)
  uint64_t enabled_ns = 0; // time enabled and time running: value * enabled / running is the
  uint64_t running_ns = 0; // estimate over the window when the PMU multiplexed the event
};

// The seam for the perf syscalls. Methods return >= 0 on success and -errno on failure.
class PerfApi {
 public:
  virtual ~PerfApi() = default;
  // perf_event_open(attr, this thread, any CPU, no group, CLOEXEC): a descriptor.
  virtual int open(const perf_event_attr& attr) = 0;
  virtual int enable(int fd) = 0;
  virtual int disable(int fd) = 0;
  // value, time enabled, time running (read_format TOTAL_TIME_ENABLED | TOTAL_TIME_RUNNING).
  virtual int read(int fd, uint64_t out[3]) = 0;
  virtual void close(int fd) = 0;
};

// The kernel's perf syscalls.
std::shared_ptr<PerfApi> kernel_perf_api();

// Replaces the API every later StreamCounters::open uses; nullptr restores the kernel's.
// REQUIRES: no run in progress (a run's streams keep the API they opened with).
void set_perf_api(std::shared_ptr<PerfApi> api);
std::shared_ptr<PerfApi> perf_api();

// A stand-in PMU, for what a machine without one cannot show: hardware events answer as
// `answer` says; software events go to the kernel. Counts are made up from elapsed time
// (cycles 1 per ns enabled, instructions 2, ...: an IPC of 2).
enum class FakePmu { kPresent, kMultiplexed, kNotPermitted, kAbsent };
std::shared_ptr<PerfApi> fake_pmu_api(FakePmu answer);

// One stream thread's counters. Not copyable; closes its descriptors when destroyed.
class StreamCounters {
 public:
  StreamCounters() = default;
  ~StreamCounters();
  StreamCounters(const StreamCounters&) = delete;
  StreamCounters& operator=(const StreamCounters&) = delete;

  // Called by the stream thread, outside the window. Opens `set`, disabled.
  void open(CounterSet set);
  // Called by the stream thread at the window's start and end. No allocation, no logging.
  void start() noexcept;
  void stop() noexcept;
  // REQUIRES: stop() was called (else every value is 0). One reading per event asked for.
  std::vector<CounterReading> readings() const { return readings_; }

 private:
  std::shared_ptr<PerfApi> api_;
  std::vector<CounterReading> readings_;
  std::vector<int> fds_;  // one per reading; -1 where it could not be opened (or for rusage)
  int rusage_first_ = -1; // index of the two rusage readings, -1 when none
  int64_t start_ns_ = 0;
  long vol_start_ = 0, invol_start_ = 0;
};

}  // namespace pinbench
