// How the stream threads of one run end, as the caller's thread waits for them. Each stream
// counts once as done, whether its thread finished or the caller abandoned its step (past the
// iteration timeout), in either order: an abandoned step may come back and end its thread before
// the caller has marked it. An abandoned stream whose thread is still in its step when the
// caller releases the threads is left behind: detached, and counted as a straggler
// (stragglers.h) until it ends. Every member is safe to call from any thread.
#pragma once

#include <condition_variable>
#include <mutex>
#include <vector>

namespace pinbench {

class StreamExits {
 public:
  explicit StreamExits(int streams);

  // REQUIRES: before any stream thread starts. How many streams this process runs.
  void set_running(int streams);

  // Called by stream thread `i` when it is done with the run's state but for ending.
  void finished(int i);
  // Called by the caller's thread when it gives up on stream `i`'s step.
  void abandon(int i);
  bool abandoned(int i) const;

  // Called by the caller's thread. True once every stream running here is done.
  bool wait_all_for(double seconds);

  // Called by the caller's thread once every stream is done: true when stream `i` is to be left
  // behind (abandoned, and its thread still in its step); it is then counted as a straggler that
  // overran `timeout_s` until it ends. False: its thread is ending and is to be joined.
  bool leave_behind(int i, double timeout_s);

  // Called by stream thread `i` as it ends: true when it was left behind (then it must call
  // straggler_ended() once it has released everything).
  bool end_thread(int i);

 private:
  void count_done(int i);  // REQUIRES: mu_ held

  mutable std::mutex mu_;
  std::condition_variable cv_;
  int running_;
  int done_ = 0;                   // streams finished or abandoned
  std::vector<bool> counted_;      // this stream is counted in done_
  std::vector<bool> abandoned_;    // the caller gave up on its step
  std::vector<bool> exited_;       // its thread has left the run
  std::vector<bool> left_behind_;  // detached and counted as a straggler
};

}  // namespace pinbench
