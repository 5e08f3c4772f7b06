// The stream runner: N native threads, each pinned, each running its step through a warmup and a
// measured phase that all streams start together.
//
// Per stream thread, in order: pin; enter_thread; make_step; start barrier; warmup until the
// warmup deadline; reserve the sample buffers; measure barrier; measure (closed or open loop);
// destroy the step; leave_thread. A failure anywhere stops every stream and breaks the barriers;
// nothing escapes a thread.
//
// What a run is asked (RunnerConfig) is run_config.h; what it hands back (RunResult) is
// run_result.h; a stream's loops are stream_loops.h and its sample store sample_recorder.h.
#pragma once

#include <functional>
#include <memory>

#include "run_config.h"
#include "run_result.h"
#include "step.h"
#include "warmup_watch.h"

namespace pinbench {

class SharedRegion;

// Validates `config` (throws std::invalid_argument) before any thread starts, then runs.
// Called on the caller's thread, which only waits: every poll_interval_s it checks the streams
// for steps past the iteration timeout and calls `should_stop` (e.g. to look for Ctrl-C);
// returning true stops the streams promptly and marks the result interrupted. Returns once every
// stream thread has been joined, except threads whose step never returned: those are detached
// and counted as stragglers (stragglers.h) until they end (they keep the shared state alive
// and touch nothing else when their step finally returns). Whoever ends the process waits for
// them first (wait_for_stragglers). `warmup_watch` (auto warmup, warmup_watch.h), when given, is
// asked at each poll while the streams warm up and may end their warmup before warmup_s.
// `on_measure`, when given, is called once on the caller's thread, at its first poll that finds
// the measured window open (within poll_interval_s of its start), before that poll's
// should_stop: a signal to the run then can no longer be mistaken for one before the window.
RunResult run_streams(const RunnerConfig& config, std::shared_ptr<StepFactory> factory,
                      const std::function<bool()>& should_stop,
                      const WarmupWatch& warmup_watch = {},
                      const std::function<void()>& on_measure = nullptr);

// Process isolation: runs stream `stream` of `config` alone, in the calling process, as one of
// the streams of `region` (the others run in other processes, each calling this): it meets them
// at the region's barriers, serves the region's arrival queue, stops on its stop flag, and
// publishes its phase, iteration and step in flight in the region's watch, for the supervisor
// (process_runner.h), which polices the iteration timeout itself: a process can be ended, where
// a thread can only be left behind (config.iteration_timeout_s is ignored here). The result has
// one entry per stream of `config`, only `stream`'s filled; its window fields are those this
// process saw (the supervisor reads the run's from the region).
RunResult run_stream_in_region(const RunnerConfig& config, std::shared_ptr<StepFactory> factory,
                               SharedRegion& region, int stream);

}  // namespace pinbench
