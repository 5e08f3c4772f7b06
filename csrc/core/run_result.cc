#include "run_result.h"

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

}  // namespace pinbench
