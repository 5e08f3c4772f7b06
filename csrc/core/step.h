// What the runner runs: a step per stream, made on that stream's pinned thread by a factory.
#pragma once

#include <cstdint>
#include <memory>

namespace pinbench {

// Time a step spends inside the timed region before its own work begins, e.g. waiting for the
// GIL. Plain fields, written by the stream thread only: the runner sets `started_ns` (the
// iteration's start, on the runner's clock) just before each run(); a step that waits adds its
// wait to `waited_ns` with one clock read once it may go on, or sets `timed` false when it does
// not measure it (then it is reported as unknown). The runner zeroes `waited_ns` when the measured
// phase starts and reports it per stream (StreamSamples::step_wait_ns).
struct StepClock {
  int64_t started_ns = 0;
  int64_t waited_ns = 0;
  bool timed = true;  // a step that never waits (native work) is timed: its wait is 0
};

// One stream's unit of work. Lives and dies on its stream thread.
class StreamStep {
 public:
  virtual ~StreamStep() = default;
  // One iteration. Throws on failure; the runner records the exception for this stream.
  virtual void run() = 0;

  StepClock clock;
};

// Makes the steps. Every method is called on the stream thread named by `stream`, after that
// thread is pinned; calls for different streams run concurrently.
class StepFactory {
 public:
  virtual ~StepFactory() = default;
  // First call on the thread, before make_step (e.g. to create a thread state).
  virtual void enter_thread(int /*stream*/) {}
  // May throw; the runner records it as a factory failure of this stream.
  virtual std::unique_ptr<StreamStep> make_step(int stream) = 0;
  // Last call on the thread, after the step is destroyed. Must not throw.
  virtual void leave_thread(int /*stream*/) noexcept {}
};

}  // namespace pinbench
