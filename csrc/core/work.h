// Native work items: steps that never touch Python, for calibration and timing-accuracy tests.
#pragma once

#include <cstdint>
#include <memory>
#include <stdexcept>

#include "clock.h"
#include "step.h"

namespace pinbench {

// Busy-waits `ns` nanoseconds on the steady clock: the step's cost is known by construction.
class SpinStep final : public StreamStep {
 public:
  explicit SpinStep(int64_t ns) : ns_(ns) {}
  void run() override {
    const int64_t end = now_ns() + ns_;
    while (now_ns() < end) {
    }
  }

 private:
  int64_t ns_;
};

// Does nothing: what remains is the runner's own cost per iteration.
class NoopStep final : public StreamStep {
 public:
  void run() override {}
};

// A factory for either native step; spin_ns == 0 means no-op.
class NativeWorkFactory final : public StepFactory {
 public:
  explicit NativeWorkFactory(int64_t spin_ns) : spin_ns_(spin_ns) {
    if (spin_ns < 0) throw std::invalid_argument("spin time must be >= 0 ns");
  }
  std::unique_ptr<StreamStep> make_step(int /*stream*/) override {
    if (spin_ns_ == 0) return std::make_unique<NoopStep>();
    return std::make_unique<SpinStep>(spin_ns_);
  }
  int64_t spin_ns() const { return spin_ns_; }

 private:
  int64_t spin_ns_;
};

}  // namespace pinbench
