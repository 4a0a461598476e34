#include "test_support.h"

#include <catch2/catch.hpp>
#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <random>
#include <sstream>

#include "ctxext/build_info.h"

namespace ctxext::testing {

TempDir::TempDir() {
  std::random_device rd;
  for (int attempt = 0; attempt < 100; ++attempt) {
    auto candidate = fs::temp_directory_path() / ("ctxext-test-" + std::to_string(rd()));
    if (fs::create_directory(candidate)) {
      path_ = candidate;
      return;
    }
  }
  throw std::runtime_error("cannot create a temporary folder");
}

TempDir::~TempDir() {
  std::error_code ec;
  fs::remove_all(path_, ec);
}

std::string shell_quote(const std::string& arg) {
  std::string out = "'";
  for (char c : arg) out += (c == '\'') ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

CommandResult run_command(const std::string& command_line) {
  CommandResult result;
  FILE* pipe = popen((command_line + " 2>&1").c_str(), "r");
  if (!pipe) return result;
  std::array<char, 4096> buffer{};
  size_t n;
  while ((n = fread(buffer.data(), 1, buffer.size(), pipe)) > 0) result.output.append(buffer.data(), n);
  const int status = pclose(pipe);
  if (WIFEXITED(status)) result.exit_code = WEXITSTATUS(status);
  if (WIFSIGNALED(status)) result.signal = WTERMSIG(status);
  return result;
}

CommandResult run_ctxext(const std::vector<std::string>& args) {
  const char* bin = std::getenv("CTXEXT_BIN");
  REQUIRE(bin != nullptr);
  std::string line = shell_quote(bin);
  for (const auto& a : args) line += " " + shell_quote(a);
  return run_command(line);
}

std::string run_oracle(const std::string& script, const std::vector<std::string>& args) {
  std::string line = shell_quote(CTXEXT_PYTHON) + " " +
                     shell_quote(std::string(CTXEXT_SOURCE_DIR) + "/tests/oracle/" + script);
  for (const auto& a : args) line += " " + shell_quote(a);
  auto result = run_command(line);
  INFO("oracle " << script << " output:\n" << result.output);
  REQUIRE(result.exit_code == 0);
  return result.output;
}

void write_text(const fs::path& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary);
  out << text;
  REQUIRE(out.good());
}

std::string read_text(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace ctxext::testing
