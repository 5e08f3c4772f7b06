// Where the streams of one run meet, and what each stream publishes as it goes.
//
// Thread streams keep these inside their run; with process isolation they live in a shared
// mapping (shared_region.h) that every worker process and the supervisor map. Every member is a
// lock-free atomic, hence address-free: the same code works within a process and across processes.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <limits>

#include "shared_barrier.h"

namespace pinbench {

// StreamWatch::inflight values other than the start of a step in flight.
constexpr int64_t kIdle = 0;         // no step in flight
constexpr int64_t kAbandoned = -1;   // the supervisor gave up on the step in flight

// RunControl::warmup_cut while nobody cut the warmup short.
constexpr int64_t kNoWarmupCut = std::numeric_limits<int64_t>::max();

// What one stream publishes while it runs, for its supervisor (the caller's thread, or the
// parent process): the step in flight (for the iteration timeout), and the phase and iteration
// it reached (for the report when a worker process dies). One cache line each.
struct alignas(64) StreamWatch {
  std::atomic<int64_t> inflight{kIdle};  // start of the step in flight, kIdle or kAbandoned
  std::atomic<int64_t> iteration{-1};    // index of the latest step within its phase; -1 none
  std::atomic<int> phase{0};             // a Phase (stream_runner.h), as int
};

// Shared by every stream of one run.
struct RunControl {
  SharedBarrier start;                    // after every stream made its step
  SharedBarrier measure;                  // after every stream warmed up
  std::atomic<bool> stop{false};          // a failure or the caller asked every stream to stop
  std::atomic<size_t> next_arrival{0};    // open loop: the next arrival to serve, across streams
  std::atomic<int64_t> issued{0};         // open loop: arrivals taken by a stream
  std::atomic<int> first_failure{-1};     // the stream whose failure stopped the run, -1 none
  // Auto warmup: every stream ends its warmup at its first unit boundary at or after this
  // steady-clock ns (or at warmup_s, whichever comes first). Only ever moves earlier.
  std::atomic<int64_t> warmup_cut{kNoWarmupCut};

  // REQUIRES: no stream has started yet.
  void init(int streams) {
    start.init(streams);
    measure.init(streams);
  }

  // Ends every stream's warmup at `when_ns` (steady clock) at the latest. Any thread or process.
  void end_warmup(int64_t when_ns) {
    int64_t cut = warmup_cut.load(std::memory_order_relaxed);
    while (when_ns < cut &&
           !warmup_cut.compare_exchange_weak(cut, when_ns, std::memory_order_relaxed)) {
    }
  }

  // Stops every stream promptly and releases any waiting at a barrier. Async-signal-safe.
  void request_stop() {
    stop.store(true, std::memory_order_relaxed);
    start.break_all();
    measure.break_all();
  }
};

static_assert(std::atomic<bool>::is_always_lock_free && std::atomic<size_t>::is_always_lock_free &&
                  std::atomic<int>::is_always_lock_free &&
                  std::atomic<int64_t>::is_always_lock_free,
              "run control shared between processes needs address-free (lock-free) atomics");

}  // namespace pinbench
