// Stream threads left behind. The runner detaches a stream thread whose step ran past the
// iteration timeout (run_streams returns without waiting for it); that thread lives on until its
// step returns. They are counted here, process-wide, so that the end of the process can wait for
// them: a process that ends while one still runs has it resume into torn-down state. (CPython
// before 3.14 ends a thread that asks for the GIL during interpreter finalization by unwinding
// it, and a noexcept frame on its stack, such as ONNX Runtime's GIL guard, turns that unwind into
// std::terminate: "terminate called without an active exception", exit 134.)
#pragma once

namespace pinbench {

// How many stream threads were left behind and have not ended yet. Thread-safe.
int stragglers();

// How long an exit should wait for them: the longest iteration timeout they overran, at least
// 1 s and at most 10 s (a step that overran its limit gets as long again to come back).
double straggler_grace_s();

// Waits up to `seconds` (the grace when negative) for every straggler to end. True when none is
// left. Thread-safe; call it without holding anything a straggler may need (e.g. the GIL).
bool wait_for_stragglers(double seconds = -1.0);

// For the runner: a thread is being left behind after overrunning `timeout_s`, and one that was
// left behind has ended (the last thing it does).
void straggler_left(double timeout_s);
void straggler_ended();

}  // namespace pinbench
