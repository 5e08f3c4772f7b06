// The machine's memory bandwidth on given CPUs, measured the STREAM way: one pinned thread per
// CPU, each summing (read) and computing a = b + s*c (triad) over arrays of its own, far beyond
// the last-level cache, all threads started together; best of N repetitions.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace pinbench {

// The last-level cache of a set of CPUs, from <root>/devices/system/cpu/cpuN/cache/index*/
// (level, size, shared_cpu_list).
struct LastLevelCache {
  int level = 0;               // 0 when sysfs lists no cache for these CPUs
  int64_t bytes_each = 0;      // size of one instance
  int instances = 0;           // distinct instances the CPUs share (one per socket, CCX, ...)
  int64_t total_bytes() const { return bytes_each * instances; }
};

// Reads the highest cache level listed for `cpus` under `root` (the sysfs root). Missing or
// unreadable files leave it empty (level 0); never throws for them.
LastLevelCache read_last_level_cache(const std::string& root, const std::vector<int>& cpus);

// STREAM's rule: each array at least 4x all the last-level caches together, and at least
// 64 MiB, split evenly over `threads`; a multiple of 4 KiB per thread. REQUIRES threads >= 1.
int64_t suggested_array_bytes_per_thread(const LastLevelCache& llc, int threads);

struct BandwidthRequest {
  std::vector<int> cpus;             // one thread per CPU, each pinned to it; non-empty
  int64_t array_bytes_per_thread = 64LL << 20;  // each of the thread's three arrays
  int repetitions = 5;               // >= 1; the best (shortest) is kept
};

struct BandwidthResult {
  std::vector<int> cpus;                      // as requested, one per thread
  std::vector<std::vector<int>> affinity;     // read back inside each thread, after pinning
  int64_t array_bytes_per_thread = 0;
  int arrays = 3;                             // a, b, c per thread (read sums b)
  int repetitions = 0;
  double read_gbps = 0;                       // bytes read / best time, 1e9 bytes per second
  double triad_gbps = 0;                      // 3 x array bytes (read b, c; write a) / best time
  double read_seconds = 0;                    // the best repetition's time
  double triad_seconds = 0;
  double checksum = 0;                        // keeps the sums alive; meaningless otherwise
};

// Runs the measurement (blocking; seconds for large arrays). Each thread pins itself, allocates
// and first-touches its arrays (so they live on its NUMA node), then all meet at a barrier
// before each repetition; a repetition's time runs from the first thread's start to the last
// one's end. Throws std::invalid_argument for a bad request and std::runtime_error when a thread
// could not pin or allocate (its CPU and reason named); no exception leaves a thread.
BandwidthResult measure_bandwidth(const BandwidthRequest& request);

}  // namespace pinbench
