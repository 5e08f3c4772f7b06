// Process isolation: every stream of a run in a worker process of its own, under one supervisor.
//
// Thread streams share one interpreter, so a Python step serialises them on its GIL; and a step
// that crashes (SIGSEGV in native code, abort()) takes the whole run down. Here each stream runs
// in a process of its own, with the same stream loop (run_stream_in_region), meeting the others
// in a SharedRegion: barriers, stop flag and arrival queue in shared memory, timestamps from the
// same steady clock (CLOCK_MONOTONIC is one clock for every process), so the window and the
// samples mean what they mean for threads.
//
// The supervisor (run_processes, on the caller's thread):
//  - spawns worker i with posix_spawn while the calling thread is pinned, for that moment, to the
//    stream's CPU set: the worker inherits the mask and is pinned from its first instruction,
//    before its interpreter or any engine thread exists. Each worker gets a process group of its
//    own (a Ctrl-C at the terminal reaches the supervisor, which stops the workers through the
//    region, so each still sends back what it measured), the region as descriptor
//    kWorkerRegionFd, stdin from /dev/null and stdout + stderr into its log file;
//  - then only waits: every poll_interval_s it reaps workers that exited, polices the iteration
//    timeout through the region's watches (a step past it ends its worker with SIGKILL, reported
//    as a timeout of that stream), and calls should_stop (true: stop every stream; true again
//    once stopping: kill the workers still running);
//  - reports a worker that ended without marking itself done (killed by a signal, or exited)
//    as its stream's failure, with the phase and iteration the worker last published, and stops
//    the others (the barriers are broken, so none is left waiting for the dead one);
//  - leaves no worker behind: any still running when it returns or throws is killed and reaped.
//
// Each worker should ask for SIGKILL when its parent dies (prctl PR_SET_PDEATHSIG): the kernel
// sends it when the *thread* that spawned the worker ends, and that thread stays inside
// run_processes until every worker has been reaped.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "run_config.h"
#include "run_result.h"
#include "shared_region.h"

namespace pinbench {

struct WorkerSpec {
  std::vector<std::string> argv;  // argv[0] is the program's path; the environment is inherited
  std::string log_path;           // the worker's stdout and stderr (created or truncated)
};

// The one line that says how a process ended: "was killed by signal 11 (SIGSEGV)",
// "exited with status 3".
std::string describe_exit(int wait_status);

// Runs one worker per stream of `config` (workers.size() == stream count == region.streams()).
// Validates `config` first (std::invalid_argument). Returns once every worker has been reaped,
// with the run's window and failures as the supervisor saw them, `workers` filled, and of each
// stream only its pid and whether it was killed (`abandoned`): the samples are the workers' own.
RunResult run_processes(const RunnerConfig& config, SharedRegion& region,
                               const std::vector<WorkerSpec>& workers,
                               const std::function<bool()>& should_stop);

}  // namespace pinbench
