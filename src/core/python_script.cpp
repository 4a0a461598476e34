#include "core/python_script.h"

#include <cstdlib>
#include <filesystem>

#include "core/error.h"
#include "ctxext/build_info.h"

namespace ctxext {

namespace {

// Single-quoted for /bin/sh: a quote inside becomes '\''.
std::string shell_quote(const std::string& text) {
  std::string out = "'";
  for (const char c : text) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

}  // namespace

void run_python_script(const std::string& script, const std::vector<std::string>& args, const std::string& what) {
  const std::filesystem::path python = CTXEXT_PYTHON;
  const std::filesystem::path path = std::filesystem::path(CTXEXT_SOURCE_DIR) / "scripts" / script;
  if (!std::filesystem::exists(python))
    fail("{}: no Python interpreter to draw plots (run ./scripts/setup.sh); {}", python.string(), what);
  if (!std::filesystem::exists(path)) fail("{}: plotting script missing; {}", path.string(), what);
  std::string command = shell_quote(python.string()) + " " + shell_quote(path.string());
  for (const auto& a : args) command += " " + shell_quote(a);
  if (std::system(command.c_str()) != 0) fail("scripts/{} failed (command: {}); {}", script, command, what);
}

}  // namespace ctxext
