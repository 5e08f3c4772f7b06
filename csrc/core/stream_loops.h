// The loops one stream thread runs once its step exists: the warmup, then the measured window in
// the closed or the open loop. Each step runs under the stream's watch (run_control.h), where the
// supervisor (the caller's thread, or the parent process) sees the step in flight and may give
// up on it (the iteration timeout).
//
// Called by the stream's own thread only. Inside the loops nothing allocates or logs but the
// sample buffers growing past their reserve (sample_recorder.h).
#pragma once

#include <cstdint>

#include "run_config.h"
#include "run_control.h"
#include "run_result.h"
#include "sample_recorder.h"
#include "step.h"

namespace pinbench {

// Publishes the phase the stream entered (its iteration reset to -1), for its supervisor.
void publish_phase(StreamWatch& watch, Phase phase);

class StreamLoops {
 public:
  // All four must outlive the loops.
  StreamLoops(const RunnerConfig& config, RunControl& control, StreamWatch& watch,
              StreamStep& step);

  // Runs whole units from `start_ns` until the warmup deadline, the supervisor's cut (auto
  // warmup) or a stop. False when the supervisor gave up on the step in flight: the stream must
  // then touch nothing and leave. A step's exception propagates (iterations() says where).
  bool warm_up(int64_t start_ns);
  // Runs the measured window from `start_ns` to `deadline_ns` (or the iteration cap) in the
  // config's loop mode, recording each call. Returns and throws as warm_up does.
  bool measure(int64_t start_ns, int64_t deadline_ns, SampleRecorder& recorder);

  // Iterations the warmup ran, and when its last one started.
  int64_t iterations() const { return iterations_; }
  int64_t last_start_ns() const { return last_start_ns_; }

  // After a step threw: it is no longer in flight (one the supervisor gave up on stays so).
  void settle();
  // True when the supervisor gave up on the step in flight.
  bool gave_up() const;

 private:
  bool watched_run(int64_t t0, int64_t iteration);
  bool measure_closed_loop(int64_t deadline_ns, SampleRecorder& recorder);
  bool measure_open_loop(int64_t start_ns, int64_t deadline_ns, SampleRecorder& recorder);
  bool wait_until(int64_t when_ns) const;

  const RunnerConfig& config_;
  RunControl& control_;
  StreamWatch& watch_;
  StreamStep& step_;
  int64_t iterations_ = 0;
  int64_t last_start_ns_ = 0;
};

}  // namespace pinbench
