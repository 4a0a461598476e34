// ctxext plot RUN_DIR: a PNG of the loss and lr curves from metrics.jsonl, and one-line errors for a
// missing folder, a missing or empty metrics file and a damaged row (naming file:line).
#include <catch2/catch.hpp>

#include <fstream>

#include "cli_fixtures.h"
#include "support/test_support.h"

using namespace ctxext::testing;
using Catch::Matchers::Contains;

namespace {

const std::string kRows =
    R"({"grad_norm":8.3,"loss":5.79,"lr":0.0001,"skipped":false,"step":1,"tokens":769,"tokens_per_s":91.1})" "\n"
    R"({"grad_norm":8.7,"loss":null,"lr":9.3e-05,"skipped":true,"step":2,"tokens":861,"tokens_per_s":105.3})" "\n"
    R"({"grad_norm":8.4,"loss":5.28,"lr":7.5e-05,"skipped":false,"step":3,"tokens":673,"tokens_per_s":80.6,"eval_loss":5.4})" "\n";

bool is_png(const fs::path& file) {
  const std::string bytes = read_text(file);
  return bytes.size() > 1000 && bytes.compare(0, 8, "\x89PNG\r\n\x1a\n") == 0;
}

}  // namespace

TEST_CASE("ctxext plot draws a run's loss and lr curves into training.png", "[cli][plot]") {
  TempDir run;
  write_text(run / "metrics.jsonl", kRows);
  const auto r = run_ctxext({"plot", run.path().string()});
  INFO(r.output);
  REQUIRE(r.exit_code == 0);
  CHECK_THAT(r.output, Contains("training.png") && Contains("3 steps"));
  CHECK(is_png(run / "training.png"));
  CHECK_FALSE(fs::exists(run / "training.png.tmp.png"));

  const auto other = run / "curves.png";
  REQUIRE(run_ctxext({"plot", run.path().string(), "--out", other.string()}).exit_code == 0);
  CHECK(is_png(other));
}

TEST_CASE("ctxext plot: bad inputs are one line naming the folder, file or line", "[cli][plot]") {
  TempDir run;
  check_rejected({"plot", (run / "nope").string()}, {"nope", "not a folder"});
  check_rejected({"plot", run.path().string()}, {"no metrics.jsonl"});
  write_text(run / "metrics.jsonl", "");
  check_rejected({"plot", run.path().string()}, {"metrics.jsonl", "no rows"});
  write_text(run / "metrics.jsonl", kRows + "{\"step\": 4, \"loss\": 1.0\n");
  check_rejected({"plot", run.path().string()}, {"metrics.jsonl:4"});
  write_text(run / "metrics.jsonl", kRows + R"({"step": 2, "loss": 1.0, "lr": 0.1})" "\n");
  check_rejected({"plot", run.path().string()}, {"metrics.jsonl:4", "steps must increase"});
  write_text(run / "metrics.jsonl", R"({"step": 1, "loss": "low", "lr": 0.1})" "\n");
  check_rejected({"plot", run.path().string()}, {"metrics.jsonl:1", "'loss'"});
  write_text(run / "metrics.jsonl", kRows);
  check_rejected({"plot", run.path().string(), "--out", (run / "missing" / "x.png").string()}, {"--out", "does not exist"});
  CHECK_FALSE(fs::exists(run / "training.png"));
}
