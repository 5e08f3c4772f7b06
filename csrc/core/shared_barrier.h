// A one-shot meeting point that works between the threads of one process and, placed in a
// MAP_SHARED mapping, between processes: lock-free atomics and futex waits, no mutex, no pointer.
//
// Like a thread barrier it can be broken: break_all() releases every waiter (and every later
// arrival) with false, so a failing stream, or the supervisor of a worker process that died,
// never leaves the others waiting.
#pragma once

#include <linux/futex.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <cstdint>

#include "clock.h"

namespace pinbench {

class SharedBarrier {
 public:
  SharedBarrier() = default;
  SharedBarrier(const SharedBarrier&) = delete;
  SharedBarrier& operator=(const SharedBarrier&) = delete;

  // REQUIRES: called once, before any party arrives (before the memory is shared, for processes).
  void init(int parties) {
    waiting_for_.store(parties, std::memory_order_relaxed);
    release_ns_.store(0, std::memory_order_relaxed);
    state_.store(kOpen, std::memory_order_release);
  }

  // Called by each party once. Blocks until every party has arrived (true) or the barrier is
  // broken (false). The last arrival stamps release_ns() before waking the others, so all parties
  // share one start time.
  bool arrive_and_wait() {
    if (state_.load(std::memory_order_acquire) == kBroken) return false;
    if (waiting_for_.fetch_sub(1, std::memory_order_acq_rel) == 1) {
      release_ns_.store(now_ns(), std::memory_order_relaxed);
      uint32_t open = kOpen;
      const bool released =
          state_.compare_exchange_strong(open, kReleased, std::memory_order_acq_rel);
      wake_all();
      return released;  // false: it was broken just before the last arrival
    }
    for (;;) {
      const uint32_t s = state_.load(std::memory_order_acquire);
      if (s != kOpen) return s == kReleased;
      futex(FUTEX_WAIT, kOpen);  // returns at once unless the word still reads kOpen
    }
  }

  // Releases every waiter, and every later arrival, with false; a released barrier stays released.
  // Safe from any thread of any process that maps it, any time; async-signal-safe.
  void break_all() {
    uint32_t open = kOpen;
    if (state_.compare_exchange_strong(open, kBroken, std::memory_order_acq_rel)) wake_all();
  }

  bool released() const { return state_.load(std::memory_order_acquire) == kReleased; }

  // The steady-clock ns at which the last party arrived; 0 while not released.
  int64_t release_ns() const {
    return released() ? release_ns_.load(std::memory_order_relaxed) : 0;
  }

 private:
  static constexpr uint32_t kOpen = 0;
  static constexpr uint32_t kReleased = 1;
  static constexpr uint32_t kBroken = 2;

  // Not FUTEX_PRIVATE_FLAG: the word may be shared between processes.
  long futex(int op, uint32_t value) {
    static_assert(sizeof(std::atomic<uint32_t>) == sizeof(uint32_t), "futex word layout");
    return ::syscall(SYS_futex, reinterpret_cast<uint32_t*>(&state_), op, value, nullptr,
                     nullptr, 0);
  }
  void wake_all() { futex(FUTEX_WAKE, INT32_MAX); }

  std::atomic<int32_t> waiting_for_{0};
  std::atomic<uint32_t> state_{kOpen};  // the futex word
  std::atomic<int64_t> release_ns_{0};
};

static_assert(std::atomic<int64_t>::is_always_lock_free && std::atomic<uint32_t>::is_always_lock_free,
              "a barrier shared between processes needs address-free (lock-free) atomics");

}  // namespace pinbench
