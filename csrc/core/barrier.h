// A one-shot meeting point for the stream threads that a failing stream can break.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <mutex>

#include "clock.h"

namespace pinbench {

class Barrier {
 public:
  explicit Barrier(int parties) : waiting_for_(parties) {}
  Barrier(const Barrier&) = delete;
  Barrier& operator=(const Barrier&) = delete;

  // Called by each stream thread once. Blocks until every party has arrived (returns true) or the
  // barrier is broken (returns false). The last arrival stamps release_ns() before waking the others,
  // so all parties share one start time.
  bool arrive_and_wait() {
    std::unique_lock<std::mutex> lock(mu_);
    if (broken_) return false;
    if (--waiting_for_ == 0) {
      release_ns_ = now_ns();
      released_ = true;
      cv_.notify_all();
      return true;
    }
    cv_.wait(lock, [this] { return released_ || broken_; });
    return released_;
  }

  // Releases every waiter (and every later arrival) with false. Safe from any thread, any time.
  void break_all() {
    std::lock_guard<std::mutex> lock(mu_);
    if (released_) return;
    broken_ = true;
    cv_.notify_all();
  }

  // REQUIRES: arrive_and_wait() returned true on the calling thread.
  int64_t release_ns() const {
    std::lock_guard<std::mutex> lock(mu_);
    return release_ns_;
  }

 private:
  mutable std::mutex mu_;
  std::condition_variable cv_;
  int waiting_for_;
  bool released_ = false;
  bool broken_ = false;
  int64_t release_ns_ = 0;
};

}  // namespace pinbench
