// The shared mapping of one process-isolated run: its RunControl, one StreamWatch per stream and
// one WorkerSlot per stream.
//
// The supervisor creates it as an anonymous memfd (nothing is left in the file system, and the
// memory goes when the last process unmaps it); each worker inherits the descriptor
// (kWorkerRegionFd) and maps it. Layout: header | StreamWatch[streams] | WorkerSlot[streams],
// each part 64-byte aligned; the header carries a magic number, a version and the size, checked
// on attach.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>

#include "run_control.h"

namespace pinbench {

// The descriptor under which a worker process finds the region.
constexpr int kWorkerRegionFd = 3;

// How far a worker process got, as it publishes it.
enum class WorkerState : int {
  kSpawned = 0,  // started; the interpreter and its imports are loading
  kRunning = 1,  // mapped the region and entered its stream loop
  kDone = 2,     // its results are complete (written where the caller asked); it exits next
};

struct alignas(64) WorkerSlot {
  std::atomic<int> state{static_cast<int>(WorkerState::kSpawned)};
  std::atomic<int> pid{0};  // set by the supervisor once spawned
};

class SharedRegion {
 public:
  // A fresh region for `streams` streams (>= 1), its control block initialised for them.
  // Throws std::system_error.
  static std::unique_ptr<SharedRegion> create(int streams);
  // Maps the region behind `fd` (taking ownership of it); throws std::runtime_error when it is
  // not one (bad magic, version or size).
  static std::unique_ptr<SharedRegion> attach(int fd);

  ~SharedRegion();
  SharedRegion(const SharedRegion&) = delete;
  SharedRegion& operator=(const SharedRegion&) = delete;

  int fd() const { return fd_; }
  int streams() const { return streams_; }
  RunControl& control() { return *control_; }
  StreamWatch* watches() { return watches_; }  // `streams()` of them
  WorkerSlot& slot(int stream) { return slots_[stream]; }

 private:
  SharedRegion(int fd, void* base, size_t bytes);
  static size_t bytes_for(int streams);

  int fd_;
  void* base_;
  size_t bytes_;
  int streams_ = 0;
  RunControl* control_ = nullptr;
  StreamWatch* watches_ = nullptr;
  WorkerSlot* slots_ = nullptr;
};

}  // namespace pinbench
