// train.offload: optimizer (fp32 masters and AdamW state in host memory, the step on the host).
// On this CPU-only machine host and device are the same memory, so these tests prove the code path
// and the arithmetic, not the transfer: with sharding optimizer the offloaded run is the same
// computation on the same device (bitwise); against the per-tensor sharding none path only the
// gradient-norm reduction order differs (float64 sum of squares vs torch's norm of norms).
#include <catch2/catch.hpp>

#include <csignal>

#include "rank_launcher.h"
#include "train_fixture.h"
#include "train_runs.h"

using namespace ctxext::testing;
using Catch::Matchers::Contains;

namespace {
std::string weights(const fs::path& run) { return read_text(run / "export" / "model.safetensors"); }
}  // namespace

TEST_CASE("train offload: same weights as without it, and a resumed offloaded run ends bit-identical",
          "[train][offload]") {
  TempDir dir;
  write_text(dir / "c.yaml", tiny_train_yaml("unused"));
  const auto run = [&](const std::string& name, const std::vector<std::string>& overrides, const std::string& fault = "") {
    const auto r = train_process(dir / "c.yaml", dir / name, overrides, fault);
    INFO(r.output);
    if (fault.empty()) REQUIRE(r.exit_code == 0);
    return r;
  };
  run("replicated", {});
  run("sharded", {"train.sharding=optimizer"});
  run("offloaded", {"train.sharding=optimizer", "train.offload=optimizer"});
  run("offloaded-none", {"train.offload=optimizer"});
  CHECK(weights(dir / "sharded") == weights(dir / "offloaded"));
  CHECK(weights(dir / "offloaded") == weights(dir / "offloaded-none"));  // one process: the same flat path
  CHECK(relative_weight_difference(dir / "replicated", dir / "offloaded") <= 1e-6);

  const auto killed = run("resumed", {"train.offload=optimizer"}, "after-step-3");
  CHECK(killed.signal == SIGKILL);
  const auto resumed = run("resumed", {"train.offload=optimizer"});
  CHECK_THAT(resumed.output, Contains("resumed from"));
  CHECK(weights(dir / "resumed") == weights(dir / "offloaded-none"));
}

TEST_CASE("train offload: with sharding none on several ranks it is refused, saying what to use", "[train][offload]") {
  TempDir dir;
  write_text(dir / "c.yaml", tiny_train_yaml("unused"));
  const auto ranks = run_ranks(2, {"train", (dir / "c.yaml").string(), "output_dir=" + (dir / "run").string(),
                                   "train.micro_batch_size=1", "train.offload=optimizer"},
                               dir.path());
  for (const auto& r : ranks) {
    INFO(r.log);
    CHECK(r.exit_code == 2);
    CHECK_THAT(r.log, Contains("train.offload: optimizer with train.sharding: none on 2 ranks") &&
                          Contains("use train.sharding: optimizer or full"));
  }
}
