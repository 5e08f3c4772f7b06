#include "process_runner.h"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstring>
#include <limits>
#include <sstream>
#include <stdexcept>
#include <thread>

#include "affinity.h"
#include "clock.h"

extern char** environ;

namespace pinbench {
namespace {

const char* signal_abbrev(int sig) {
  switch (sig) {
    case SIGSEGV: return "SIGSEGV";
    case SIGABRT: return "SIGABRT";
    case SIGBUS: return "SIGBUS";
    case SIGFPE: return "SIGFPE";
    case SIGILL: return "SIGILL";
    case SIGKILL: return "SIGKILL";
    case SIGTERM: return "SIGTERM";
    case SIGINT: return "SIGINT";
    case SIGHUP: return "SIGHUP";
    case SIGPIPE: return "SIGPIPE";
    case SIGQUIT: return "SIGQUIT";
    case SIGTRAP: return "SIGTRAP";
    case SIGSYS: return "SIGSYS";
    case SIGXCPU: return "SIGXCPU";
    default: return nullptr;
  }
}

// posix_spawn's attributes and file actions, released on every path.
class SpawnSetup {
 public:
  explicit SpawnSetup(const WorkerSpec& spec, int region_fd) {
    posix_spawnattr_init(&attr_);
    posix_spawn_file_actions_init(&actions_);
    sigset_t none, defaults;
    sigemptyset(&none);
    sigemptyset(&defaults);
    sigaddset(&defaults, SIGINT);
    sigaddset(&defaults, SIGTERM);
    posix_spawnattr_setsigmask(&attr_, &none);
    posix_spawnattr_setsigdefault(&attr_, &defaults);
    posix_spawnattr_setpgroup(&attr_, 0);  // a group of its own: terminal signals go to us
    posix_spawnattr_setflags(&attr_, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK |
                                         POSIX_SPAWN_SETSIGDEF);
    posix_spawn_file_actions_addopen(&actions_, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&actions_, 1, spec.log_path.c_str(),
                                     O_WRONLY | O_CREAT | O_TRUNC, 0600);
    posix_spawn_file_actions_adddup2(&actions_, 1, 2);
    posix_spawn_file_actions_adddup2(&actions_, region_fd, kWorkerRegionFd);
  }
  ~SpawnSetup() {
    posix_spawn_file_actions_destroy(&actions_);
    posix_spawnattr_destroy(&attr_);
  }
  SpawnSetup(const SpawnSetup&) = delete;
  SpawnSetup& operator=(const SpawnSetup&) = delete;

  // The child's pid, or -errno.
  int spawn(const std::vector<std::string>& argv) {
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    pid_t pid = 0;
    const int err = posix_spawn(&pid, args[0], &actions_, &attr_, args.data(), environ);
    return err == 0 ? static_cast<int>(pid) : -err;
  }

 private:
  posix_spawnattr_t attr_;
  posix_spawn_file_actions_t actions_;
};

class Supervisor {
 public:
  Supervisor(const RunnerConfig& config, SharedRegion& region, const std::vector<WorkerSpec>& specs)
      : config_(config), region_(region), specs_(specs), alive_(specs.size(), false) {
    result_.workers.resize(specs.size());
  }
  // No worker is left behind, whatever happened.
  ~Supervisor() { kill_running(); }
  Supervisor(const Supervisor&) = delete;
  Supervisor& operator=(const Supervisor&) = delete;

  void spawn_all() {
    for (size_t i = 0; i < specs_.size(); ++i) {
      if (!spawn(static_cast<int>(i))) return;  // the failure stopped the run: spawn no more
    }
  }

  void supervise(const std::function<bool()>& should_stop) {
    const auto poll = std::chrono::duration<double>(config_.poll_interval_s);
    while (running() > 0) {
      reap();
      check_timeouts();
      if (should_stop && should_stop()) {
        if (!result_.interrupted) {
          result_.interrupted = true;
          region_.control().request_stop();
        } else {
          kill_running();  // asked again while stopping: do not wait for the steps in flight
        }
      }
      if (running() > 0) std::this_thread::sleep_for(poll);
    }
  }

  RunResult take() {
    RunControl& c = region_.control();
    result_.first_failure = c.first_failure.load(std::memory_order_acquire);
    result_.warmup_start_ns = c.start.release_ns();
    result_.measure_start_ns = c.measure.release_ns();
    result_.deadline_ns =
        result_.measure_start_ns == 0 ? 0
        : config_.duration_s > 0
            ? result_.measure_start_ns + seconds_to_ns(config_.duration_s)
            : std::numeric_limits<int64_t>::max();
    result_.arrivals_issued = c.issued.load(std::memory_order_acquire);
    result_.arrivals_dropped =
        arrivals_dropped(config_, result_.measure_start_ns, result_.arrivals_issued);
    result_.streams.resize(result_.workers.size());
    for (size_t i = 0; i < result_.workers.size(); ++i) {
      result_.streams[i].pid = result_.workers[i].pid;
      result_.streams[i].abandoned = result_.workers[i].killed;
    }
    return std::move(result_);
  }

 private:
  int running() const { return static_cast<int>(std::count(alive_.begin(), alive_.end(), true)); }

  bool spawn(int i) {
    const auto& cpus = config_.stream_cpus[static_cast<size_t>(i)];
    std::vector<int> saved;
    if (!cpus.empty()) {
      // The worker inherits this thread's mask at its birth: pinned before anything runs in it.
      try {
        saved = current_affinity();
      } catch (const std::exception&) {
      }
      if (!saved.empty()) pin_current_thread(cpus);  // a failure shows when the worker reads back
    }
    SpawnSetup setup(specs_[static_cast<size_t>(i)], region_.fd());
    const int pid = setup.spawn(specs_[static_cast<size_t>(i)].argv);
    if (!saved.empty()) pin_current_thread(saved);
    if (pid < 0) {
      fail(i, Phase::kStart, -1,
           std::string("cannot start its worker process: ") + std::strerror(-pid), false);
      return false;
    }
    result_.workers[static_cast<size_t>(i)].pid = pid;
    region_.slot(i).pid.store(pid, std::memory_order_release);
    alive_[static_cast<size_t>(i)] = true;
    return true;
  }

  // Collects every worker that exited; one that never marked itself done failed.
  void reap() {
    for (size_t i = 0; i < alive_.size(); ++i) {
      if (!alive_[i]) continue;
      int status = 0;
      const pid_t got = ::waitpid(result_.workers[i].pid, &status, WNOHANG);
      if (got == 0 || (got < 0 && errno == EINTR)) continue;
      ended(static_cast<int>(i), got < 0 ? -1 : status);
    }
  }

  // Worker `i` ended with `status` (-1: unknown, reaped elsewhere).
  void ended(int i, int status) {
    WorkerExit& w = result_.workers[static_cast<size_t>(i)];
    alive_[static_cast<size_t>(i)] = false;
    if (status >= 0 && WIFEXITED(status)) w.exit_code = WEXITSTATUS(status);
    if (status >= 0 && WIFSIGNALED(status)) w.signal = WTERMSIG(status);
    w.reported = region_.slot(i).state.load(std::memory_order_acquire) ==
                 static_cast<int>(WorkerState::kDone);
    // Reported and exited cleanly (or reaped elsewhere, e.g. SIGCHLD ignored): its result stands.
    if (w.killed || (w.reported && (w.exit_code == 0 || status < 0))) return;
    std::ostringstream what;
    what << "worker process " << w.pid << " ";
    if (status < 0)
      what << "ended (its exit status was collected elsewhere)";
    else if (w.reported)
      what << describe_exit(status) << " after sending its results";
    else if (WIFEXITED(status) && w.exit_code == 0)
      what << "exited with status 0 without sending its results";
    else
      what << describe_exit(status);
    const StreamWatch& watch = region_.watches()[i];
    fail(i, static_cast<Phase>(watch.phase.load(std::memory_order_acquire)),
         watch.iteration.load(std::memory_order_relaxed), what.str(), false);
  }

  void check_timeouts() {
    if (config_.iteration_timeout_s <= 0) return;
    const int64_t limit = seconds_to_ns(config_.iteration_timeout_s);
    const int64_t now = now_ns();
    for (size_t i = 0; i < alive_.size(); ++i) {
      if (!alive_[i]) continue;
      StreamWatch& w = region_.watches()[i];
      int64_t started = w.inflight.load(std::memory_order_acquire);
      if (started <= kIdle || now - started < limit) continue;
      // The worker may finish its step right now: whoever swaps the start first wins.
      if (!w.inflight.compare_exchange_strong(started, kAbandoned, std::memory_order_acq_rel))
        continue;
      std::ostringstream what;
      what << "the step did not return within the iteration timeout of "
           << config_.iteration_timeout_s << " s";
      fail(static_cast<int>(i), static_cast<Phase>(w.phase.load(std::memory_order_acquire)),
           w.iteration.load(std::memory_order_relaxed), what.str(), true);
      kill_worker(static_cast<int>(i));
    }
  }

  void fail(int i, Phase phase, int64_t iteration, const std::string& message, bool timed_out) {
    const bool counted = phase == Phase::kWarmup || phase == Phase::kMeasure;
    StreamFailure f = make_failure(i, phase, counted ? iteration : -1,
                                   std::make_exception_ptr(std::runtime_error(message)), timed_out);
    result_.failures.push_back(std::move(f));
    int none = -1;
    region_.control().first_failure.compare_exchange_strong(none, i, std::memory_order_acq_rel);
    region_.control().request_stop();
  }

  // Ends worker `i` (and anything it started in its process group) and reaps it.
  void kill_worker(int i) {
    WorkerExit& w = result_.workers[static_cast<size_t>(i)];
    if (!alive_[static_cast<size_t>(i)]) return;
    w.killed = true;
    if (::kill(-w.pid, SIGKILL) != 0) ::kill(w.pid, SIGKILL);
    int status = 0;
    pid_t got;
    do {
      got = ::waitpid(w.pid, &status, 0);
    } while (got < 0 && errno == EINTR);
    ended(i, got < 0 ? -1 : status);
  }

  void kill_running() {
    for (size_t i = 0; i < alive_.size(); ++i)
      if (alive_[i]) kill_worker(static_cast<int>(i));
  }

  const RunnerConfig& config_;
  SharedRegion& region_;
  const std::vector<WorkerSpec>& specs_;
  std::vector<bool> alive_;
  RunResult result_;
};

}  // namespace

std::string describe_exit(int status) {
  std::ostringstream out;
  if (WIFSIGNALED(status)) {
    const int sig = WTERMSIG(status);
    const char* name = signal_abbrev(sig);
    out << "was killed by signal " << sig;
    if (name) out << " (" << name << ")";
  } else if (WIFEXITED(status)) {
    out << "exited with status " << WEXITSTATUS(status);
  } else {
    out << "ended with wait status " << status;
  }
  return out.str();
}

RunResult run_processes(const RunnerConfig& config, SharedRegion& region,
                               const std::vector<WorkerSpec>& workers,
                               const std::function<bool()>& should_stop) {
  check_config(config);
  if (workers.size() != config.stream_cpus.size() ||
      region.streams() != static_cast<int>(workers.size()))
    throw std::invalid_argument("one worker per stream, and a region for that many streams");
  for (const auto& w : workers)
    if (w.argv.empty() || w.log_path.empty())
      throw std::invalid_argument("every worker needs a program and a log file");
  Supervisor supervisor(config, region, workers);
  supervisor.spawn_all();
  supervisor.supervise(should_stop);
  return supervisor.take();
}

}  // namespace pinbench
