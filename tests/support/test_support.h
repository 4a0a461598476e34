// Helpers shared by the tests: temporary folders, the Python oracle, the ctxext binary.
#pragma once
#include <filesystem>
#include <string>
#include <vector>

namespace ctxext::testing {

namespace fs = std::filesystem;

// A fresh folder under the system temp dir, removed when the object dies.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const fs::path& path() const { return path_; }
  fs::path operator/(const std::string& name) const { return path_ / name; }

 private:
  fs::path path_;
};

struct CommandResult {
  int exit_code = -1;   // -1 when killed by a signal
  int signal = 0;       // the signal that ended it, else 0
  std::string output;   // stdout and stderr together
};

// Runs a shell command line, capturing its output.
CommandResult run_command(const std::string& command_line);

// Runs the ctxext binary (path from $CTXEXT_BIN, set by CTest) with the given arguments.
CommandResult run_ctxext(const std::vector<std::string>& args);

// Runs tests/oracle/<script> with the project's Python (transformers etc.). Fails the test on a
// non-zero exit, printing the script's output.
std::string run_oracle(const std::string& script, const std::vector<std::string>& args);

// Quotes one argument for /bin/sh.
std::string shell_quote(const std::string& arg);

void write_text(const fs::path& path, const std::string& text);
std::string read_text(const fs::path& path);

}  // namespace ctxext::testing
