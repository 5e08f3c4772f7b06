#include "signal_watch.h"

#include <fcntl.h>
#include <unistd.h>

namespace py = pybind11;

namespace pinbench::bindings {

SignalWatch::SignalWatch(py::object& interrupt) : interrupt_(interrupt) {
  interrupt_ = py::none();
  const py::module_ threading = py::module_::import("threading");
  main_thread_ = threading.attr("current_thread")().is(threading.attr("main_thread")());
  if (!main_thread_) return;
  int fds[2];
  if (::pipe2(fds, O_NONBLOCK | O_CLOEXEC) != 0) return;
  try {
    previous_fd_ = py::module_::import("signal")
                       .attr("set_wakeup_fd")(fds[1], py::arg("warn_on_full_buffer") = false)
                       .cast<int>();
    read_fd_ = fds[0];
    write_fd_ = fds[1];
  } catch (py::error_already_set&) {  // e.g. a subinterpreter: the GIL every poll, as before
    ::close(fds[0]);
    ::close(fds[1]);
  }
}

SignalWatch::~SignalWatch() {
  if (read_fd_ < 0) return;
  try {
    py::module_::import("signal").attr("set_wakeup_fd")(previous_fd_);
  } catch (py::error_already_set& e) {
    e.discard_as_unraisable("pinbench: restoring the signal wakeup fd");
  }
  ::close(read_fd_);
  ::close(write_fd_);
}

bool SignalWatch::operator()() {
  if (!main_thread_) return false;
  if (read_fd_ < 0) return run_handlers();
  char bytes[64];
  bool woken = false;
  for (ssize_t n; (n = ::read(read_fd_, bytes, sizeof bytes)) > 0;) {
    woken = true;
    if (previous_fd_ >= 0) (void)!::write(previous_fd_, bytes, static_cast<size_t>(n));
  }
  if (checked_ && !woken) return false;
  checked_ = true;
  return run_handlers();
}

bool SignalWatch::run_handlers() {
  py::gil_scoped_acquire gil;
  if (PyErr_CheckSignals() == 0) return false;
  interrupt_ = py::error_already_set().value();
  return true;
}

}  // namespace pinbench::bindings
