#include "bandwidth.h"

#include <sys/mman.h>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstdint>
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

// An anonymous mapping advised for transparent huge pages, as numpy advises its large arrays:
// with 4 KiB pages (THP in "madvise" mode, the usual default) the TLB misses, dear under a
// hypervisor's nested paging, would be measured instead of the memory. Untouched until filled.
class Buffer {
 public:
  static constexpr size_t kHuge = size_t{2} << 20;

  explicit Buffer(size_t elements) : bytes_(elements * sizeof(double) + kHuge) {
    base_ = ::mmap(nullptr, bytes_, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (base_ == MAP_FAILED) throw std::bad_alloc();
    const uintptr_t at = reinterpret_cast<uintptr_t>(base_);
    const uintptr_t aligned = (at + kHuge - 1) / kHuge * kHuge;
    data_ = reinterpret_cast<double*>(aligned);
    ::madvise(data_, elements * sizeof(double), MADV_HUGEPAGE);  // advice only: no error
  }
  Buffer(const Buffer&) = delete;
  Buffer& operator=(const Buffer&) = delete;
  ~Buffer() { ::munmap(base_, bytes_); }

  double* data() { return data_; }

 private:
  size_t bytes_;
  void* base_ = MAP_FAILED;
  double* data_ = nullptr;
};

// One thread's slot: written by its thread only, read by the caller after join().
struct Slot {
  std::string error;
  std::vector<int> affinity;
  std::vector<int64_t> read_ns;   // [start, end] per repetition
  std::vector<int64_t> triad_ns;
  double checksum = 0;
};

// Sixteen independent sums (eight 2-wide vectors): the adds overlap instead of waiting on one
// another, so one core reads faster than memory delivers without -ffast-math.
double sum(const double* x, size_t n) {
  constexpr size_t kWays = 16;
  double s[kWays] = {};
  size_t i = 0;
  for (; i + kWays <= n; i += kWays)
    for (size_t k = 0; k < kWays; ++k) s[k] += x[i + k];
  for (; i < n; ++i) s[0] += x[i];
  double total = 0;
  for (double v : s) total += v;
  return total;
}

// Streaming (non-temporal) stores where the CPU has them: a store that first reads its line in
// (write-allocate) would move 4 arrays' bytes while STREAM counts 3. REQUIRES a 16-byte aligned.
void triad(double* __restrict a, const double* __restrict b, const double* __restrict c, double scalar,
           size_t n) {
  size_t i = 0;
#if defined(__SSE2__)
  const __m128d s = _mm_set1_pd(scalar);
  for (; i + 2 <= n; i += 2)
    _mm_stream_pd(a + i, _mm_add_pd(_mm_loadu_pd(b + i), _mm_mul_pd(s, _mm_loadu_pd(c + i))));
  _mm_sfence();  // the streamed stores are visible before the clock is read
#endif
  for (; i < n; ++i) a[i] = b[i] + scalar * c[i];
}

// Called by each measuring thread. Catches everything into `slot`.
void run_thread(int cpu, size_t elements, int repetitions, Barrier* barrier, Slot* slot) {
  try {
    const std::string err = pin_current_thread({cpu});
    if (!err.empty()) {
      slot->error = err;
      barrier->break_all();
      return;
    }
    slot->affinity = current_affinity();
    slot->read_ns.assign(2 * static_cast<size_t>(repetitions), 0);
    slot->triad_ns.assign(2 * static_cast<size_t>(repetitions), 0);
    // Allocated and first touched here, on the pinned thread: the pages land on its node.
    Buffer a_buffer(elements), b_buffer(elements), c_buffer(elements);
    double* const a = a_buffer.data();
    double* const b = b_buffer.data();
    double* const c = c_buffer.data();
    std::fill(a, a + elements, 0.0);
    std::fill(b, b + elements, 1.0);
    std::fill(c, c + elements, 2.0);
    double check = 0;
    for (size_t r = 0; r < static_cast<size_t>(repetitions); ++r) {
      if (!barrier->arrive_and_wait()) return;
      slot->read_ns[2 * r] = now_ns();
      check += sum(b, elements);
      slot->read_ns[2 * r + 1] = now_ns();
      if (!barrier->arrive_and_wait()) return;
      slot->triad_ns[2 * r] = now_ns();
      triad(a, b, c, 3.0, elements);
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
