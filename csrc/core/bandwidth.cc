#include "bandwidth.h"

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <fstream>
#include <limits>
#include <mutex>
#include <set>
#include <sstream>
#include <stdexcept>
#include <thread>
#include <utility>

#include "affinity.h"
#include "clock.h"
#include "cpu_list.h"

namespace pinbench {
namespace {

bool read_text(const std::string& path, std::string* out) {
  std::ifstream f(path);
  if (!f) return false;
  std::stringstream ss;
  ss << f.rdbuf();
  *out = ss.str();
  return true;
}

// "32768K", "2M", "1G" or plain bytes -> bytes; -1 when unreadable.
int64_t parse_size(const std::string& text) {
  try {
    size_t used = 0;
    const int64_t n = std::stoll(text, &used);
    const char unit = used < text.size() ? text[used] : '\n';
    switch (unit) {
      case 'K': return n << 10;
      case 'M': return n << 20;
      case 'G': return n << 30;
      default: return n;
    }
  } catch (const std::exception&) {
    return -1;
  }
}

// A reusable meeting point for the measuring threads of one process. break_all() releases
// everyone (and every later arrival) with false, so a failed thread never leaves others waiting.
class Barrier {
 public:
  explicit Barrier(int parties) : parties_(parties) {}

  bool arrive_and_wait() {
    std::unique_lock<std::mutex> lock(mutex_);
    if (broken_) return false;
    const int64_t generation = generation_;
    if (++arrived_ == parties_) {
      arrived_ = 0;
      ++generation_;
      changed_.notify_all();
      return true;
    }
    changed_.wait(lock, [&] { return broken_ || generation_ != generation; });
    return !broken_ || generation_ != generation;
  }

  void break_all() {
    std::lock_guard<std::mutex> lock(mutex_);
    broken_ = true;
    changed_.notify_all();
  }

 private:
  std::mutex mutex_;
  std::condition_variable changed_;
  const int parties_;
  int arrived_ = 0;
  int64_t generation_ = 0;
  bool broken_ = false;
};

// One thread's slot: written by its thread only, read by the caller after join().
struct Slot {
  std::string error;
  std::vector<int> affinity;
  std::vector<int64_t> read_ns;   // [start, end] per repetition
  std::vector<int64_t> triad_ns;
  double checksum = 0;
};

// Eight independent sums: the adds overlap instead of waiting on one another, so one core reads
// faster than memory delivers without -ffast-math.
double sum(const double* x, size_t n) {
  double s[8] = {0, 0, 0, 0, 0, 0, 0, 0};
  size_t i = 0;
  for (; i + 8 <= n; i += 8)
    for (int k = 0; k < 8; ++k) s[k] += x[i + static_cast<size_t>(k)];
  for (; i < n; ++i) s[0] += x[i];
  return ((s[0] + s[1]) + (s[2] + s[3])) + ((s[4] + s[5]) + (s[6] + s[7]));
}

void triad(double* __restrict a, const double* __restrict b, const double* __restrict c, double scalar,
           size_t n) {
  for (size_t i = 0; i < n; ++i) a[i] = b[i] + scalar * c[i];
}

// Called by each measuring thread. Catches everything into `slot`.
void run_thread(int cpu, size_t elements, int repetitions, Barrier* barrier, Slot* slot) {
  try {
    std::string err = pin_current_thread({cpu});
    std::vector<double> a, b, c;
    if (err.empty()) {
      slot->affinity = current_affinity();
      slot->read_ns.assign(2 * static_cast<size_t>(repetitions), 0);
      slot->triad_ns.assign(2 * static_cast<size_t>(repetitions), 0);
      // Allocated and first touched here, on the pinned thread: the pages land on its node.
      a.assign(elements, 0.0);
      b.assign(elements, 1.0);
      c.assign(elements, 2.0);
    }
    if (!err.empty()) {
      slot->error = err;
      barrier->break_all();
      return;
    }
    double check = 0;
    for (size_t r = 0; r < static_cast<size_t>(repetitions); ++r) {
      if (!barrier->arrive_and_wait()) return;
      slot->read_ns[2 * r] = now_ns();
      check += sum(b.data(), elements);
      slot->read_ns[2 * r + 1] = now_ns();
      if (!barrier->arrive_and_wait()) return;
      slot->triad_ns[2 * r] = now_ns();
      triad(a.data(), b.data(), c.data(), 3.0, elements);
      slot->triad_ns[2 * r + 1] = now_ns();
      check += a[elements / 2];
    }
    slot->checksum = check;
  } catch (const std::bad_alloc&) {
    slot->error = "out of memory allocating its arrays";
    barrier->break_all();
  } catch (const std::exception& e) {
    slot->error = e.what();
    barrier->break_all();
  } catch (...) {
    slot->error = "unknown error";
    barrier->break_all();
  }
}

// The best repetition's span, first start to last end over the threads, in seconds.
double best_span(const std::vector<Slot>& slots, std::vector<int64_t> Slot::*times, int repetitions) {
  int64_t best = std::numeric_limits<int64_t>::max();
  for (size_t r = 0; r < static_cast<size_t>(repetitions); ++r) {
    int64_t first = std::numeric_limits<int64_t>::max(), last = std::numeric_limits<int64_t>::min();
    for (const Slot& s : slots) {
      first = std::min(first, (s.*times)[2 * r]);
      last = std::max(last, (s.*times)[2 * r + 1]);
    }
    best = std::min(best, last - first);
  }
  return static_cast<double>(std::max<int64_t>(best, 1)) / 1e9;
}

}  // namespace

LastLevelCache read_last_level_cache(const std::string& root, const std::vector<int>& cpus) {
  LastLevelCache llc;
  std::set<std::string> shared;  // the shared_cpu_list of each instance seen at llc.level
  for (int cpu : cpus) {
    const std::string dir = root + "/devices/system/cpu/cpu" + std::to_string(cpu) + "/cache/index";
    for (int i = 0; i < 16; ++i) {
      std::string level_text, type, size_text, list;
      const std::string index = dir + std::to_string(i);
      if (!read_text(index + "/level", &level_text)) break;
      if (read_text(index + "/type", &type) && type.rfind("Instruction", 0) == 0) continue;
      if (!read_text(index + "/size", &size_text)) continue;
      int level = 0;
      try {
        level = std::stoi(level_text);
      } catch (const std::exception&) {
        continue;
      }
      const int64_t bytes = parse_size(size_text);
      if (bytes <= 0 || level < llc.level) continue;
      if (level > llc.level) {
        llc = LastLevelCache{level, bytes, 0};
        shared.clear();
      }
      // A CPU without a shared list counts as an instance of its own.
      if (!read_text(index + "/shared_cpu_list", &list)) list = "cpu" + std::to_string(cpu);
      list.erase(list.find_last_not_of(" \n") + 1);
      if (shared.insert(list).second) ++llc.instances;
    }
  }
  return llc;
}

int64_t suggested_array_bytes_per_thread(const LastLevelCache& llc, int threads) {
  if (threads < 1) throw std::invalid_argument("threads must be at least 1");
  const int64_t total = std::max<int64_t>(4 * llc.total_bytes(), 64LL << 20);
  const int64_t page = 4096;
  const int64_t each = (total + threads - 1) / threads;
  return (each + page - 1) / page * page;
}

BandwidthResult measure_bandwidth(const BandwidthRequest& request) {
  if (request.cpus.empty()) throw std::invalid_argument("bandwidth: no CPUs given");
  if (request.repetitions < 1)
    throw std::invalid_argument("bandwidth: repetitions must be at least 1, got " +
                                std::to_string(request.repetitions));
  if (request.array_bytes_per_thread < static_cast<int64_t>(8 * sizeof(double)))
    throw std::invalid_argument("bandwidth: arrays of " + std::to_string(request.array_bytes_per_thread) +
                                " bytes are too small");
  const size_t elements = static_cast<size_t>(request.array_bytes_per_thread) / sizeof(double);
  const int threads = static_cast<int>(request.cpus.size());
  Barrier barrier(threads);
  std::vector<Slot> slots(request.cpus.size());
  std::vector<std::thread> pool;
  pool.reserve(request.cpus.size());
  try {
    for (size_t t = 0; t < request.cpus.size(); ++t)
      pool.emplace_back(run_thread, request.cpus[t], elements, request.repetitions, &barrier, &slots[t]);
  } catch (...) {
    barrier.break_all();  // a thread that could not start: release the started ones
    for (auto& th : pool) th.join();
    throw std::runtime_error("bandwidth: cannot start " + std::to_string(threads) + " threads");
  }
  for (auto& th : pool) th.join();
  for (size_t t = 0; t < slots.size(); ++t)
    if (!slots[t].error.empty())
      throw std::runtime_error("bandwidth: the thread on CPU " + std::to_string(request.cpus[t]) + ": " +
                               slots[t].error);

  BandwidthResult out;
  out.cpus = request.cpus;
  out.array_bytes_per_thread = static_cast<int64_t>(elements * sizeof(double));
  out.repetitions = request.repetitions;
  const double bytes = static_cast<double>(out.array_bytes_per_thread) * threads;
  out.read_seconds = best_span(slots, &Slot::read_ns, request.repetitions);
  out.triad_seconds = best_span(slots, &Slot::triad_ns, request.repetitions);
  out.read_gbps = bytes / out.read_seconds / 1e9;
  out.triad_gbps = 3 * bytes / out.triad_seconds / 1e9;
  for (Slot& s : slots) {
    out.affinity.push_back(std::move(s.affinity));
    out.checksum += s.checksum;
  }
  return out;
}

}  // namespace pinbench
