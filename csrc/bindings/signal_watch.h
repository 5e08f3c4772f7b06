// How a run's waiting thread learns of a signal that Python handles (Ctrl-C, the CLI's SIGTERM),
// without taking the GIL at every poll.
#pragma once

#include <pybind11/pybind11.h>

namespace pinbench::bindings {

// Python runs its signal handlers on the main thread only, when that thread next holds the GIL.
// Taking the GIL at every poll (50 times a second) to let them run cost a stream whose steps call
// into Python 2.5% of its speed (onnxruntime-genai decode on 2 CPUs, benchmarks/vs_genai.py): each
// time, the GIL moves away from the stream and back. Instead, while a watch lives, Python's C-level
// handler also writes each signal's number to a pipe of the watch (signal.set_wakeup_fd), and a
// poll takes the GIL to run the handlers only when the pipe has something (and once at the start,
// for a signal that came before the pipe was set). A wakeup fd that was already set (asyncio's)
// gets every byte forwarded and is set again at the end. Off the main thread no handler can run, so
// a poll does nothing; where the pipe cannot be set, every poll takes the GIL as before.
class SignalWatch {
 public:
  // REQUIRES: the GIL. A handler's exception is kept in `interrupt` (which must outlive the
  // watch), made None here.
  explicit SignalWatch(pybind11::object& interrupt);
  // REQUIRES: the GIL (puts the previous wakeup fd back).
  ~SignalWatch();
  SignalWatch(const SignalWatch&) = delete;
  SignalWatch& operator=(const SignalWatch&) = delete;

  // True when a signal handler raised: the run should stop. Called without the GIL, by the one
  // thread that waits on the run.
  bool operator()();

 private:
  bool run_handlers();  // takes the GIL

  pybind11::object& interrupt_;
  bool main_thread_ = false;
  bool checked_ = false;  // the handlers have run once since the pipe was set
  int read_fd_ = -1;
  int write_fd_ = -1;
  int previous_fd_ = -1;
};

}  // namespace pinbench::bindings
