// `ctxext train --profile-steps N` (train/step_profiler.h): the op table in the log and in
// profile-rank0.txt, the Chrome trace, the steps it covers, and a bad value refused.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <fstream>

#include "cli_fixtures.h"
#include "recipes/train_fixture.h"
#include "support/test_support.h"

using namespace ctxext::testing;
using Catch::Matchers::Contains;

namespace {

CommandResult train_with_profile(const TempDir& dir, const std::string& steps, const std::string& profile) {
  write_text(dir / "c.yaml", tiny_train_yaml((dir / "run").string()));
  return run_command(shell_quote(std::getenv("CTXEXT_BIN")) + " train " + shell_quote((dir / "c.yaml").string()) +
                     " train.steps=" + steps + " checkpoint.every_steps=0 --profile-steps " + profile + " 2>&1");
}

}  // namespace

TEST_CASE("train --profile-steps: op table logged and written, trace file, the run itself unchanged",
          "[cli][profile]") {
  TempDir dir;
  const auto r = train_with_profile(dir, "4", "2");
  INFO(r.output);
  REQUIRE(r.exit_code == 0);
  // Steps 2 and 3 of 4 are profiled (the first warms up); the table has the model's matmuls and
  // ctxext's own kernels, and the category totals.
  CHECK_THAT(r.output, Contains("profile: 2 step(s)") && Contains("aten::mm") && Contains("by category") &&
                           Contains("ctxext::rope_qk") && Contains("outside ops"));
  // Kineto's "no GPU" complaint is silenced on a CPU run (it is not an error there).
  CHECK_THAT(r.output, !Contains("gpuGetDeviceCount"));
  const auto table = read_text(dir / "run" / "profile-rank0.txt");
  CHECK_THAT(table, Contains("profile: 2 step(s)") && Contains("aten::mm") && Contains("matmul"));
  // Every op is in the file; the log has the 25 largest.
  CHECK(std::count(table.begin(), table.end(), '\n') > 30);
  const auto trace = nlohmann::json::parse(read_text(dir / "run" / "profile-rank0.trace.json"));
  CHECK(trace["traceEvents"].size() > 100);
  // Training ran all 4 steps as usual.
  int rows = 0;
  std::ifstream metrics(dir / "run" / "metrics.jsonl");
  for (std::string line; std::getline(metrics, line);) ++rows;
  CHECK(rows == 4);
}

TEST_CASE("train --profile-steps: more steps than the run has left, and bad values", "[cli][profile]") {
  TempDir dir;
  const auto r = train_with_profile(dir, "3", "10");
  INFO(r.output);
  REQUIRE(r.exit_code == 0);
  CHECK_THAT(r.output, Contains("--profile-steps 10: the run had only 2 step(s) left to profile") &&
                           Contains("profile: 2 step(s)"));
  CHECK(fs::exists(dir / "run" / "profile-rank0.txt"));
  check_rejected({"train", "configs/tiny/demo.yaml", "--profile-steps", "-1"}, {"--profile-steps"});
  check_rejected({"train", "configs/tiny/demo.yaml", "--profile-steps", "many"}, {"--profile-steps"});
  const auto help = run_ctxext({"train", "--help"});
  CHECK_THAT(help.output, Contains("--profile-steps") && Contains("profile-rank<R>.txt"));
}
