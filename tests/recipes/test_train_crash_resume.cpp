// Crash safety: a run killed with SIGKILL while training, or half-way through writing a
// checkpoint, resumes (resume=auto) to final weights bit-identical to an uninterrupted run.
// The kill is real: CTXEXT_FAULT makes the ctxext process SIGKILL itself at the named point.
#include <catch2/catch.hpp>

#include <csignal>

#include "support/test_support.h"
#include "train_fixture.h"
#include "train_runs.h"

using namespace ctxext::testing;
using Catch::Matchers::Contains;

namespace {

CommandResult run_train(const fs::path& config, const fs::path& output_dir, const std::string& fault = "") {
  return train_process(config, output_dir, {}, fault);
}

std::string exported_weights(const fs::path& output_dir) {
  return read_text(output_dir / "export" / "model.safetensors");
}

}  // namespace

TEST_CASE("train: killed while training or while checkpointing, resume=auto ends bit-identical", "[train][crash]") {
  TempDir dir;
  write_text(dir / "c.yaml", tiny_train_yaml("unused"));

  const auto clean = run_train(dir / "c.yaml", dir / "clean");
  INFO(clean.output);
  REQUIRE(clean.exit_code == 0);
  const std::string reference = exported_weights(dir / "clean");
  REQUIRE(reference.size() > 1000);

  SECTION("killed after step 3 (checkpoint of step 2 is the newest)") {
    const auto killed = run_train(dir / "c.yaml", dir / "run", "after-step-3");
    CHECK(killed.signal == SIGKILL);
    CHECK(fs::exists(dir / "run" / "checkpoints" / "step-2" / "COMMITTED"));
    CHECK_FALSE(fs::exists(dir / "run" / "export"));
  }
  SECTION("killed half-way through writing the checkpoint of step 4") {
    const auto killed = run_train(dir / "c.yaml", dir / "run", "checkpoint-4");
    CHECK(killed.signal == SIGKILL);
    CHECK_FALSE(fs::exists(dir / "run" / "checkpoints" / "step-4"));
    bool temp_left = false;
    for (const auto& e : fs::directory_iterator(dir / "run" / "checkpoints"))
      temp_left = temp_left || e.path().filename().string().rfind(".step-4", 0) == 0;
    CHECK(temp_left);  // the incomplete folder exists and must be ignored
  }

  const auto resumed = run_train(dir / "c.yaml", dir / "run");
  INFO(resumed.output);
  REQUIRE(resumed.exit_code == 0);
  CHECK_THAT(resumed.output, Contains("resumed from"));
  CHECK(exported_weights(dir / "run") == reference);

  // Every step is in the metrics once, even the ones repeated after the crash.
  const std::string metrics = read_text(dir / "run" / "metrics.jsonl");
  for (int step = 1; step <= 6; ++step) {
    const std::string key = "\"step\":" + std::to_string(step) + ",";
    const auto first = metrics.find(key);
    CHECK(first != std::string::npos);
    CHECK(metrics.find(key, first + 1) == std::string::npos);
  }
}

TEST_CASE("train: exported safetensors are deterministic", "[train]") {
  TempDir dir;
  write_text(dir / "c.yaml", tiny_train_yaml("unused"));
  REQUIRE(run_train(dir / "c.yaml", dir / "a").exit_code == 0);
  REQUIRE(run_train(dir / "c.yaml", dir / "b").exit_code == 0);
  CHECK(exported_weights(dir / "a") == exported_weights(dir / "b"));
  CHECK(read_text(dir / "a" / "export" / "config.json") == read_text(dir / "b" / "export" / "config.json"));
}

TEST_CASE("train: bad settings fail with a one-line message and write nothing", "[train][errors]") {
  TempDir dir;
  write_text(dir / "c.yaml", tiny_train_yaml((dir / "out").string()));
  const auto bin = shell_quote(std::getenv("CTXEXT_BIN"));
  const auto cfg = shell_quote((dir / "c.yaml").string());
  struct Case {
    std::string override_arg;
    std::string expected;
  };
  const std::vector<Case> cases = {
      {"train.lr=-1e-5", "train.lr = -1e-5"},
      {"train.micro_batch_size=0", "train.micro_batch_size = 0"},
      {"train.global_batch_size=5", "multiple of micro_batch_size (2)"},
      {"data.tokenizer=/nonexistent/tokenizer.model", "/nonexistent/tokenizer.model"},
      {"data.path=/nonexistent/chat.jsonl", "/nonexistent/chat.jsonl"},
      {"train.stepz=3", "unknown key 'train.stepz'"},
      {"runtime.device=tpu", "runtime.device = tpu"},
  };
  for (const auto& c : cases) {
    const auto r = run_command(bin + " train " + cfg + " " + shell_quote(c.override_arg));
    INFO(c.override_arg << " -> " << r.output);
    CHECK(r.exit_code == 2);
    CHECK(r.signal == 0);
    CHECK_THAT(r.output, Contains(c.expected));
    CHECK_FALSE(fs::exists(dir / "out" / "export"));
    CHECK_FALSE(fs::exists(dir / "out" / "checkpoints"));
  }
}

TEST_CASE("train: a non-finite loss aborts with the step named, or is skipped and counted", "[train][errors]") {
  TempDir dir;
  write_text(dir / "c.yaml", tiny_train_yaml("unused"));

  const auto aborted = run_train(dir / "c.yaml", dir / "abort", "nan-loss-3");
  INFO(aborted.output);
  CHECK(aborted.exit_code == 2);
  CHECK_THAT(aborted.output, Contains("step 3: non-finite loss") && Contains("nan_policy: abort") &&
                                 Contains("checkpoints/step-2"));
  CHECK(fs::exists(dir / "abort" / "checkpoints" / "step-2" / "COMMITTED"));
  CHECK_FALSE(fs::exists(dir / "abort" / "export"));

  const std::string line = "CTXEXT_FAULT=nan-loss-3 exec " + shell_quote(std::getenv("CTXEXT_BIN")) + " train " +
                           shell_quote((dir / "c.yaml").string()) + " " +
                           shell_quote("output_dir=" + (dir / "skip").string()) + " train.nan_policy=skip";
  const auto skipped = run_command(line);
  INFO(skipped.output);
  CHECK(skipped.exit_code == 0);
  CHECK_THAT(skipped.output, Contains("step 3: non-finite loss or gradient, step skipped"));
  const std::string metrics = read_text(dir / "skip" / "metrics.jsonl");
  CHECK_THAT(metrics, Contains("\"skipped\":true"));
  CHECK(fs::exists(dir / "skip" / "export" / "model.safetensors"));
}
