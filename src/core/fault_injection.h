// Fault injection for the crash-safety tests: with CTXEXT_FAULT=<point> in the environment the
// process kills itself with SIGKILL when it reaches that point, as an OOM killer or a pre-empted
// node would. Points: "after-step-N" (training), "checkpoint-N" (half-way through writing the
// checkpoint of step N), "nan-loss-N" (the loss of step N reads NaN; see fault_requested).
// Without the variable this is a no-op.
#pragma once
#include <string>

namespace ctxext {

void fault_point(const std::string& point);

// True when CTXEXT_FAULT names `point`: for faults that are not a kill (a poisoned loss).
bool fault_requested(const std::string& point);

}  // namespace ctxext
