// Running one of the repository's Python scripts (scripts/*.py) with the project's interpreter
// (.venv/bin/python, fixed at configure time). Used for plots: matplotlib has no C++ peer.
#pragma once
#include <string>
#include <vector>

namespace ctxext {

// Runs CTXEXT_PYTHON <source>/scripts/<script> args...; fails naming the script and the exact
// command when the interpreter or the script is missing or the script exits non-zero. `what`
// says what was already written (e.g. "results.json is written") for the message.
void run_python_script(const std::string& script, const std::vector<std::string>& args, const std::string& what);

}  // namespace ctxext
