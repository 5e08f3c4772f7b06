#include "counters.h"

#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <mutex>
#include <stdexcept>
#include <utility>

#include "clock.h"

namespace pinbench {
namespace {

struct EventSpec {
  const char* name;
  uint32_t type;
  uint64_t config;
  bool kernel_only;  // happens in the kernel (scheduler): a user-only count is always 0
};

constexpr uint64_t kLlcReadMiss = PERF_COUNT_HW_CACHE_LL | (PERF_COUNT_HW_CACHE_OP_READ << 8) |
                                  (PERF_COUNT_HW_CACHE_RESULT_MISS << 16);

const EventSpec kSoftware[] = {
    {"task_clock", PERF_TYPE_SOFTWARE, PERF_COUNT_SW_TASK_CLOCK, false},
    {"context_switches", PERF_TYPE_SOFTWARE, PERF_COUNT_SW_CONTEXT_SWITCHES, true},
    {"cpu_migrations", PERF_TYPE_SOFTWARE, PERF_COUNT_SW_CPU_MIGRATIONS, true},
    {"minor_faults", PERF_TYPE_SOFTWARE, PERF_COUNT_SW_PAGE_FAULTS_MIN, false},
    {"major_faults", PERF_TYPE_SOFTWARE, PERF_COUNT_SW_PAGE_FAULTS_MAJ, false},
};

const EventSpec kHardware[] = {
    {"cycles", PERF_TYPE_HARDWARE, PERF_COUNT_HW_CPU_CYCLES, false},
    {"instructions", PERF_TYPE_HARDWARE, PERF_COUNT_HW_INSTRUCTIONS, false},
    {"cache_references", PERF_TYPE_HARDWARE, PERF_COUNT_HW_CACHE_REFERENCES, false},
    {"cache_misses", PERF_TYPE_HARDWARE, PERF_COUNT_HW_CACHE_MISSES, false},
    {"llc_load_misses", PERF_TYPE_HW_CACHE, kLlcReadMiss, false},
    {"branch_misses", PERF_TYPE_HARDWARE, PERF_COUNT_HW_BRANCH_MISSES, false},
};

class KernelPerf final : public PerfApi {
 public:
  int open(const perf_event_attr& attr) override {
    perf_event_attr copy = attr;
    const long fd = ::syscall(SYS_perf_event_open, &copy, 0, -1, -1, PERF_FLAG_FD_CLOEXEC);
    return fd < 0 ? -errno : static_cast<int>(fd);
  }
  int enable(int fd) override { return ::ioctl(fd, PERF_EVENT_IOC_ENABLE, 0) < 0 ? -errno : 0; }
  int disable(int fd) override { return ::ioctl(fd, PERF_EVENT_IOC_DISABLE, 0) < 0 ? -errno : 0; }
  int read(int fd, uint64_t out[3]) override {
    const ssize_t n = ::read(fd, out, 3 * sizeof(uint64_t));
    if (n < 0) return -errno;
    return n == static_cast<ssize_t>(3 * sizeof(uint64_t)) ? 0 : -EIO;
  }
  void close(int fd) override { ::close(fd); }
};

// Software events pass to the kernel; hardware events answer as told. A fake descriptor is
// kFakeBase + its slot, far above any real one; each slot remembers when it was enabled.
class FakePmuApi final : public PerfApi {
 public:
  explicit FakePmuApi(FakePmu answer) : answer_(answer) {}

  int open(const perf_event_attr& attr) override {
    if (attr.type == PERF_TYPE_SOFTWARE) return kernel_.open(attr);
    if (answer_ == FakePmu::kNotPermitted) return -EACCES;
    if (answer_ == FakePmu::kAbsent) return -ENOENT;
    std::lock_guard<std::mutex> lock(mu_);
    slots_.push_back({attr.type == PERF_TYPE_HW_CACHE ? 1 : attr.config + 1, 0, 0});
    return kFakeBase + static_cast<int>(slots_.size() - 1);
  }
  int enable(int fd) override {
    if (fd < kFakeBase) return kernel_.enable(fd);
    std::lock_guard<std::mutex> lock(mu_);
    slot(fd).since_ns = now_ns();
    return 0;
  }
  int disable(int fd) override {
    if (fd < kFakeBase) return kernel_.disable(fd);
    std::lock_guard<std::mutex> lock(mu_);
    Slot& s = slot(fd);
    if (s.since_ns) s.enabled_ns += static_cast<uint64_t>(now_ns() - s.since_ns);
    s.since_ns = 0;
    return 0;
  }
  int read(int fd, uint64_t out[3]) override {
    if (fd < kFakeBase) return kernel_.read(fd, out);
    std::lock_guard<std::mutex> lock(mu_);
    const Slot& s = slot(fd);
    // Multiplexed: on the PMU half the time, so half the count; scaling restores it.
    const uint64_t running = answer_ == FakePmu::kMultiplexed ? s.enabled_ns / 2 : s.enabled_ns;
    out[0] = running * s.per_ns;
    out[1] = s.enabled_ns;
    out[2] = running;
    return 0;
  }
  void close(int fd) override {
    if (fd < kFakeBase) kernel_.close(fd);
  }

 private:
  static constexpr int kFakeBase = 1 << 28;
  struct Slot {
    uint64_t per_ns;  // count per ns: the hardware config + 1 (cycles 1, instructions 2, ...)
    int64_t since_ns;
    uint64_t enabled_ns;
  };
  Slot& slot(int fd) { return slots_[static_cast<size_t>(fd - kFakeBase)]; }

  const FakePmu answer_;
  KernelPerf kernel_;
  std::mutex mu_;
  std::vector<Slot> slots_;
};

std::mutex g_api_mu;
std::shared_ptr<PerfApi> g_api;

perf_event_attr attr_of(const EventSpec& e, bool user_only) {
  perf_event_attr a;
  std::memset(&a, 0, sizeof a);
  a.size = sizeof a;
  a.type = e.type;
  a.config = e.config;
  a.disabled = 1;
  a.inherit = 1;  // threads the stream thread starts later (an engine's pool) count too
  a.exclude_hv = 1;
  a.exclude_kernel = user_only ? 1 : 0;
  a.read_format = PERF_FORMAT_TOTAL_TIME_ENABLED | PERF_FORMAT_TOTAL_TIME_RUNNING;
  return a;
}

void thread_switches(long& voluntary, long& involuntary) noexcept {
  rusage u;
  if (::getrusage(RUSAGE_THREAD, &u) != 0) return;
  voluntary = u.ru_nvcsw;
  involuntary = u.ru_nivcsw;
}

}  // namespace

const char* counter_set_name(CounterSet set) {
  switch (set) {
    case CounterSet::kOff: return "off";
    case CounterSet::kSoftware: return "software";
    case CounterSet::kAll: return "all";
  }
  return "off";
}

CounterSet counter_set_named(const std::string& name) {
  for (CounterSet set : {CounterSet::kOff, CounterSet::kSoftware, CounterSet::kAll})
    if (name == counter_set_name(set)) return set;
  throw std::invalid_argument("counters must be off, software or all, got '" + name + "'");
}

std::shared_ptr<PerfApi> kernel_perf_api() { return std::make_shared<KernelPerf>(); }

std::shared_ptr<PerfApi> fake_pmu_api(FakePmu answer) { return std::make_shared<FakePmuApi>(answer); }

void set_perf_api(std::shared_ptr<PerfApi> api) {
  std::lock_guard<std::mutex> lock(g_api_mu);
  g_api = std::move(api);
}

std::shared_ptr<PerfApi> perf_api() {
  std::lock_guard<std::mutex> lock(g_api_mu);
  if (!g_api) g_api = kernel_perf_api();
  return g_api;
}

StreamCounters::~StreamCounters() {
  for (int fd : fds_)
    if (fd >= 0) api_->close(fd);
}

void StreamCounters::open(CounterSet set) {
  if (set == CounterSet::kOff) return;
  api_ = perf_api();
  // The kernel included when allowed; else user space only, where that still means something.
  const auto add = [this](const EventSpec& e, bool hardware) {
    CounterReading r;
    r.name = e.name;
    r.hardware = hardware;
    int fd = api_->open(attr_of(e, false));
    if (fd == -EACCES && !e.kernel_only) {
      fd = api_->open(attr_of(e, true));
      r.user_only = fd >= 0;
    }
    r.error = fd < 0 ? -fd : 0;
    readings_.push_back(r);
    fds_.push_back(fd < 0 ? -1 : fd);
  };
  for (const auto& e : kSoftware) add(e, false);
  rusage_first_ = static_cast<int>(readings_.size());
  for (const char* name : {"voluntary_switches", "involuntary_switches"}) {
    CounterReading r;
    r.name = name;
    readings_.push_back(r);
    fds_.push_back(-1);
  }
  if (set == CounterSet::kAll)
    for (const auto& e : kHardware) add(e, true);
}

void StreamCounters::start() noexcept {
  if (!api_) return;
  thread_switches(vol_start_, invol_start_);
  start_ns_ = now_ns();
  for (int fd : fds_)
    if (fd >= 0) api_->enable(fd);
}

void StreamCounters::stop() noexcept {
  if (!api_) return;
  for (int fd : fds_)
    if (fd >= 0) api_->disable(fd);
  const auto window = static_cast<uint64_t>(now_ns() - start_ns_);
  long vol = vol_start_, invol = invol_start_;
  thread_switches(vol, invol);
  for (size_t k = 0; k < fds_.size(); ++k) {
    CounterReading& r = readings_[k];
    if (fds_[k] >= 0) {
      uint64_t v[3] = {0, 0, 0};
      const int err = api_->read(fds_[k], v);
      if (err < 0) {
        r.error = -err;
        continue;
      }
      r.value = v[0];
      r.enabled_ns = v[1];
      r.running_ns = v[2];
    }
  }
  if (rusage_first_ >= 0) {
    CounterReading* r = &readings_[static_cast<size_t>(rusage_first_)];
    r[0].value = static_cast<uint64_t>(vol - vol_start_);
    r[1].value = static_cast<uint64_t>(invol - invol_start_);
    r[0].enabled_ns = r[0].running_ns = r[1].enabled_ns = r[1].running_ns = window;
  }
}

}  // namespace pinbench
