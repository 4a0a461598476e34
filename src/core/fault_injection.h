// Fault injection for the crash-safety tests: with CTXEXT_FAULT=<point> in the environment the
// process kills itself with SIGKILL when it reaches that point, as an OOM killer or a pre-empted
// node would. Points: "after-step-N" (training), "checkpoint-N" (half-way through writing the
// checkpoint of step N). Without the variable this is a no-op.
#pragma once
#include <string>

namespace ctxext {

void fault_point(const std::string& point);

}  // namespace ctxext
