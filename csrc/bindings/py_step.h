// The runner's step over a Python callable.
//
// Each stream thread gets one Python thread state for its whole life (creating one per call would
// cost ~10 us per iteration instead of ~0.2 us). The GIL is taken around each call to the step and
// released right after, in run() and nowhere else in the timed region.
#pragma once

#include <pybind11/pybind11.h>

#include <memory>
#include <vector>

#include "../core/step.h"

namespace pinbench::bindings {

class PyStepFactory final : public StepFactory {
 public:
  // REQUIRES: the GIL is held (construction). The destructor takes the GIL itself: the last
  // owner may be a stream thread that was abandoned in a step and came back late.
  // `time_gil_waits`: each step times its wait for the GIL (one clock read per iteration); worth
  // it only where other streams of this interpreter contend for the GIL.
  PyStepFactory(pybind11::object make_step, int streams, bool time_gil_waits);
  ~PyStepFactory() override;
  PyStepFactory(const PyStepFactory&) = delete;
  PyStepFactory& operator=(const PyStepFactory&) = delete;

  // Called by each stream thread (without the GIL).
  void enter_thread(int stream) override;
  std::unique_ptr<StreamStep> make_step(int stream) override;
  void leave_thread(int stream) noexcept override;

 private:
  struct ThreadSlot {
    PyThreadState* state = nullptr;
    PyGILState_STATE gil_state = PyGILState_UNLOCKED;
  };
  pybind11::object make_step_;
  bool time_gil_waits_;
  std::vector<ThreadSlot> slots_;  // one per stream, written only by that stream's thread
};

}  // namespace pinbench::bindings
