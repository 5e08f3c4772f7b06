// One stream's sample store for its measured window: the exact latency totals of every
// iteration, and its start and end (and scheduled arrival, in the open loop) for each stored one;
// past RunnerConfig::max_samples a uniform reservoir of whole units is kept.
#pragma once

#include <cstdint>

#include "run_config.h"
#include "run_result.h"

namespace pinbench {

class SampleRecorder {
 public:
  // Records into `out` for stream `stream` of a run of `streams` streams under `config`; both
  // must outlive the recorder.
  SampleRecorder(const RunnerConfig& config, int stream, int streams, StreamSamples& out);

  // Sizes the buffers from the warmup rate (`iterations` in `warmup_ns`). Called by the stream
  // thread before its measured window: the one place it allocates on purpose.
  void reserve(int64_t iterations, int64_t warmup_ns);

  // Adds one measured iteration. `origin` is its start (closed loop) or scheduled arrival (open).
  // Called by the stream thread inside the timed loop: allocates only when the buffers grow past
  // their reserve (the warmup rate underestimated the window's).
  void record(int64_t origin, int64_t t0, int64_t t1);

  // Iterations measured so far, stored or not.
  int64_t count() const { return out_.totals.count; }

 private:
  void update_totals(int64_t origin, int64_t t1);
  void replace_in_reservoir(int64_t origin, int64_t t0, int64_t t1);

  const RunnerConfig& config_;
  const int streams_;
  StreamSamples& out_;
  uint64_t random_;   // xorshift64* state for the reservoir's replacement index
  int64_t slot_ = -1;  // where the unit being recorded goes in the reservoir; -1: dropped
};

}  // namespace pinbench
