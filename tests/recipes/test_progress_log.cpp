// Progress written to a log file (not a terminal): a few lines, not one per step; metrics.jsonl
// token counts and rates (issue 10 §5).
#include <catch2/catch.hpp>

#include <chrono>
#include <nlohmann/json.hpp>
#include <sstream>

#include "core/progress.h"
#include "support/test_support.h"
#include "train_fixture.h"

using namespace ctxext::testing;

TEST_CASE("train with its output in a file logs progress every 10% (or every few seconds), not every step",
          "[train][progress]") {
  TempDir dir;
  write_text(dir / "c.yaml", tiny_train_yaml((dir / "run").string()));
  const auto start = std::chrono::steady_clock::now();
  const auto r = run_command(shell_quote(std::getenv("CTXEXT_BIN")) + " train " + shell_quote((dir / "c.yaml").string()) +
                             " train.steps=40 checkpoint.every_steps=0 > " + shell_quote((dir / "log").string()) +
                             " 2>&1");
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  const std::string log = read_text(dir / "log");
  INFO(log);
  REQUIRE(r.exit_code == 0);
  int lines = 0;
  bool last = false;
  std::istringstream in(log);
  for (std::string line; std::getline(in, line);) {
    if (line.find(" train ") == std::string::npos || line.find("/40 ") == std::string::npos) continue;
    ++lines;
    last = last || line.find(" train 40/40 ") != std::string::npos;
  }
  CHECK(last);
  // The first update, one per 10% (10), and at most one more per kLogEverySeconds of run time.
  CHECK(lines >= 10);
  CHECK(lines <= 11 + static_cast<int>(seconds / ctxext::Progress::kLogEverySeconds) + 1);
  CHECK(lines < 40);

  // metrics.jsonl: every processed token and the supervised ones, each with its own rate.
  std::istringstream metrics(read_text(dir / "run" / "metrics.jsonl"));
  int rows = 0;
  for (std::string line; std::getline(metrics, line); ++rows) {
    const auto row = nlohmann::json::parse(line);
    CHECK(row["processed_tokens"].get<int64_t>() > row["tokens"].get<int64_t>());
    CHECK(row["processed_tokens_per_s"].get<double>() > row["supervised_tokens_per_s"].get<double>());
    CHECK(row["elapsed_s"].get<double>() <= seconds);
  }
  CHECK(rows == 40);
}
