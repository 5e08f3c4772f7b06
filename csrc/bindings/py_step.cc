#include "py_step.h"

#include <string>
#include <utility>

#include "../core/clock.h"

namespace py = pybind11;

namespace pinbench::bindings {
namespace {

// Once the interpreter is finalizing, a thread that asks for the GIL is ended on the spot: the
// late destructors of an abandoned stream leak their references instead.
bool finalizing() {
#if PY_VERSION_HEX >= 0x030D0000
  return Py_IsFinalizing() != 0;
#else
  return _Py_IsFinalizing() != 0;
#endif
}

// Calls a Python callable with no arguments; the stream thread's state is resumed only for the call.
class PyStep final : public StreamStep {
 public:
  // REQUIRES: the GIL is held by `state`'s thread; `fn` is a new reference this object owns.
  PyStep(PyThreadState* state, PyObject* fn, bool time_waits) : state_(state), fn_(fn) {
    clock.timed = time_waits;
  }
  PyStep(const PyStep&) = delete;
  PyStep& operator=(const PyStep&) = delete;

  // Called by the stream thread, without the GIL.
  ~PyStep() override {
    if (finalizing()) return;
    PyEval_RestoreThread(state_);
    Py_DECREF(fn_);
    PyEval_SaveThread();
  }

  // Called by the stream thread, without the GIL. Throws py::error_already_set. The time from the
  // iteration's start to holding the GIL is this step's wait (StepClock): one clock read, a sum.
  void run() override {
    PyEval_RestoreThread(state_);
    if (clock.timed) clock.waited_ns += now_ns() - clock.started_ns;
    PyObject* result = PyObject_CallNoArgs(fn_);
    if (result == nullptr) {
      py::error_already_set error;  // takes the pending Python exception
      PyEval_SaveThread();
      throw error;
    }
    Py_DECREF(result);
    PyEval_SaveThread();
  }

 private:
  PyThreadState* state_;
  PyObject* fn_;
};

}  // namespace

PyStepFactory::PyStepFactory(py::object make_step, int streams, bool time_gil_waits)
    : make_step_(std::move(make_step)),
      time_gil_waits_(time_gil_waits),
      slots_(static_cast<size_t>(streams)) {
  if (!PyCallable_Check(make_step_.ptr())) throw py::type_error("make_step must be callable");
}

PyStepFactory::~PyStepFactory() {
  if (finalizing()) {
    make_step_.release();
    return;
  }
  py::gil_scoped_acquire gil;
  make_step_ = py::object();
}

void PyStepFactory::enter_thread(int stream) {
  ThreadSlot& slot = slots_[static_cast<size_t>(stream)];
  // PyGILState registers the thread state as this thread's own, so pybind11 (and anything else
  // that asks PyGILState) reuses it instead of making another.
  slot.gil_state = PyGILState_Ensure();
  slot.state = PyEval_SaveThread();
}

std::unique_ptr<StreamStep> PyStepFactory::make_step(int stream) {
  ThreadSlot& slot = slots_[static_cast<size_t>(stream)];
  PyEval_RestoreThread(slot.state);
  try {
    py::object step = make_step_(stream);
    if (!PyCallable_Check(step.ptr())) {
      const std::string type = py::str(py::type::of(step).attr("__name__"));
      throw py::type_error("make_step(" + std::to_string(stream) +
                           ") must return a zero-argument callable, got " + type);
    }
    auto out = std::make_unique<PyStep>(slot.state, step.release().ptr(), time_gil_waits_);
    PyEval_SaveThread();
    return out;
  } catch (py::error_already_set&) {
    PyEval_SaveThread();
    throw;
  } catch (py::builtin_exception& e) {
    // Turn it into a Python exception now, while the GIL is held, so the caller gets its type.
    e.set_error();
    py::error_already_set error;
    PyEval_SaveThread();
    throw error;
  } catch (...) {
    PyEval_SaveThread();
    throw;
  }
}

void PyStepFactory::leave_thread(int stream) noexcept {
  ThreadSlot& slot = slots_[static_cast<size_t>(stream)];
  if (slot.state == nullptr || finalizing()) return;
  PyEval_RestoreThread(slot.state);
  PyGILState_Release(slot.gil_state);  // the last release deletes the thread state
  slot.state = nullptr;
}

}  // namespace pinbench::bindings
