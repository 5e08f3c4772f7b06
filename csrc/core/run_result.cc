#include "run_result.h"

#include <stdexcept>
#include <utility>

namespace pinbench {

const char* phase_name(Phase phase) {
  switch (phase) {
    case Phase::kPin: return "pin";
    case Phase::kFactory: return "factory";
    case Phase::kWarmup: return "warmup";
    case Phase::kMeasure: return "measure";
    case Phase::kStart: return "start";
  }
  return "unknown";
}

StreamFailure make_failure(int stream, Phase phase, int64_t iteration, std::exception_ptr error,
                           bool timed_out) {
  StreamFailure f;
  f.stream = stream;
  f.phase = phase;
  f.iteration = iteration;
  f.error = std::move(error);
  f.timed_out = timed_out;
  try {
    std::rethrow_exception(f.error);
  } catch (const std::exception& e) {
    f.message = e.what();
  } catch (...) {
    f.message = "unknown error";
  }
  return f;
}

}  // namespace pinbench
