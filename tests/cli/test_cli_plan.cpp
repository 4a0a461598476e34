// ctxext plan and the memory planner (train/memory_plan.h): the 7B arithmetic of issue 13 §4, the
// planner against an allocator-level count of the real trainer (CTXEXT_COUNT_ALLOC=1) on the tiny
// preset at 2,048 tokens, and the command's flags.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <fstream>
#include <iostream>
#include <sstream>

#include "cli_fixtures.h"
#include "support/test_support.h"
#include "train/memory_plan.h"

using namespace ctxext;
using namespace ctxext::testing;
using Catch::Matchers::Contains;

namespace {

train::MemoryPlanInput llama2_7b_16k(bool offload, train::Sharding sharding) {
  train::MemoryPlanInput in;
  in.model = model::llama_preset("llama2-7b");
  in.seq_len = 16384;
  in.micro_batch = 1;
  in.bf16 = true;
  in.activation_checkpointing = true;
  in.offload_optimizer = offload;
  in.sharding = sharding;
  in.world_size = 1;
  return in;
}

const train::MemoryComponent& component(const train::MemoryPlan& plan, const std::string& prefix) {
  for (const auto& c : plan.components)
    if (c.name.rfind(prefix, 0) == 0) return c;
  FAIL("no component " << prefix);
  throw;
}

// The tiny preset at 2,048 positions, fp32 on the CPU, one process (the measured configuration).
std::string tiny_config(const fs::path& out) {
  return "model:\n  preset: tiny\n  max_position_embeddings: 2048\nrope:\n  type: none\n"
         "data:\n  format: text\n  path: data/corpus/kjv_train.jsonl\n  tokenizer: data/tokenizer.model\n"
         "  max_seq_len: 2048\n  min_tokens: 2048\n  num_samples: 4\n  shuffle: false\n"
         "train:\n  steps: 3\n  lr: 1.0e-4\n  micro_batch_size: 1\n  global_batch_size: 1\n  precision: fp32\n"
         "checkpoint:\n  every_steps: 0\nexport:\n  enabled: false\n"
         "runtime:\n  device: cpu\n  threads: 2\n  seed: 1\noutput_dir: " + out.string() + "\nresume: none\n";
}

}  // namespace

TEST_CASE("memory plan: LLaMA-2-7B at 16k tokens, bf16, checkpointing, one 80 GB GPU", "[cli][plan]") {
  const double P = 6738415616.0;
  const auto none = train::plan_memory(llama2_7b_16k(false, train::Sharding::none));
  CHECK(none.parameters == 6738415616);
  // Everything on the device: bf16 weights + grads (4 B/param), fp32 masters, master grads, moments (16 B/param).
  CHECK(component(none, "weights").device == 2 * P);
  CHECK(component(none, "fp32 master").device == 4 * P);
  CHECK(component(none, "AdamW moments").device == 8 * P);
  CHECK(component(none, "activation checkpoints").device == 32.0 * 16384 * 4096 * 2);
  CHECK(none.device_peak > 20 * P);
  CHECK(none.device_peak > 80e9);  // does not fit

  // offload optimizer, sharding none, one process: ShardedAdamW's flat path. The masters, the summed
  // fp32 gradient shard and the moments live on the host (16 B/param); the device keeps the bf16
  // weights and gradients (the gradients freed once reduced, before the step), the activations and
  // one 64 MiB bucket of the reduction or the all-gather: issue 13 §4's "fits 80 GB with room".
  const auto offload = train::plan_memory(llama2_7b_16k(true, train::Sharding::none));
  CHECK(component(offload, "fp32 master").device == 0);
  CHECK(component(offload, "fp32 master").host == 4 * P);
  CHECK(component(offload, "AdamW moments").host == 8 * P);
  CHECK(component(offload, "fp32 gradients").device == 0);
  CHECK(component(offload, "fp32 gradients").host == 4 * P);
  CHECK(offload.device_peak < none.device_peak);
  CHECK(offload.device_peak > 4 * P);       // bf16 weights + gradients at least
  CHECK(offload.device_peak < 80e9 - 20e9);  // fits one 80 GB GPU with room
  // ZeRO-3 units on one GPU with offload: no whole-model all-gather, per-unit AdamW temporaries: fits.
  const auto full = train::plan_memory(llama2_7b_16k(true, train::Sharding::full));
  CHECK(full.device_peak < 80e9 - 10e9);
}

TEST_CASE("memory plan: within 10% of the trainer's counted peak (tiny preset, 2,048 tokens, fp32, CPU)",
          "[cli][plan]") {
  for (const bool checkpointing : {false, true}) {
    TempDir dir;
    write_text(dir / "tiny.yaml", tiny_config(dir / "run"));
    const auto r = run_command("CTXEXT_COUNT_ALLOC=1 " + shell_quote(std::getenv("CTXEXT_BIN")) + " train " +
                               shell_quote((dir / "tiny.yaml").string()) +
                               " train.activation_checkpointing=" + (checkpointing ? "true" : "false") + " 2>&1");
    INFO(r.output);
    REQUIRE(r.exit_code == 0);
    double measured = 0;
    std::ifstream metrics(dir / "run" / "metrics.jsonl");
    for (std::string line; std::getline(metrics, line);) {
      const auto row = nlohmann::json::parse(line);
      REQUIRE(row["tokens"] == 2047);  // every step saw 2,048 positions
      measured = std::max(measured, row["peak_alloc_mb"].get<double>() * 1024 * 1024);
    }
    train::MemoryPlanInput in;
    in.model = model::llama_preset("tiny");
    in.seq_len = 2048;
    in.bf16 = false;
    in.activation_checkpointing = checkpointing;
    in.cuda = false;
    const auto plan = train::plan_memory(in);
    std::ostringstream phases;
    for (const auto& p : plan.phases) phases << p.name << " " << p.device / 1048576 << " MiB; ";
    std::cout << "checkpointing " << checkpointing << ": measured " << measured / 1048576 << " MiB, predicted "
              << plan.device_peak / 1048576 << " MiB (" << phases.str() << ")\n";
    CHECK(plan.device_peak == Approx(measured).epsilon(0.10));
  }
}

// The counter once handed out data pointers whose context was a bookkeeping object; LibTorch's CPU
// bf16 matmul asserts a simple pointer (context == data) and aborted the run.
TEST_CASE("the allocation counter runs a bf16 CPU training step (simple data pointers)", "[cli][plan]") {
  TempDir dir;
  write_text(dir / "tiny.yaml", tiny_config(dir / "run"));
  const auto r = run_command("CTXEXT_COUNT_ALLOC=1 " + shell_quote(std::getenv("CTXEXT_BIN")) + " train " +
                             shell_quote((dir / "tiny.yaml").string()) + " train.precision=bf16 train.steps=1 2>&1");
  INFO(r.output);
  REQUIRE(r.exit_code == 0);
  std::ifstream metrics(dir / "run" / "metrics.jsonl");
  std::string line;
  REQUIRE(std::getline(metrics, line));
  const auto row = nlohmann::json::parse(line);
  CHECK(row["peak_alloc_mb"].get<double>() > 1.0);
}

TEST_CASE("cli plan: table, verdict and knobs, bad flags exit 2 naming the flag", "[cli][plan]") {
  const std::string config = "configs/llama2-7b-chat/yarn.yaml";
  const auto r = run_ctxext({"plan", config, "model.preset=llama2-7b", "train.sharding=none"});
  INFO(r.output);
  REQUIRE(r.exit_code == 0);
  CHECK_THAT(r.output, Contains("AdamW moments") && Contains("activation checkpoints (layer inputs)") &&
                           Contains("does not fit: device peak") &&
                           Contains("would fit with any one of: train.offload=optimizer"));
  const auto huge = run_ctxext({"plan", config, "model.preset=llama2-70b"});
  CHECK_THAT(huge.output, Contains("does not fit") && Contains("no single knob"));
  const auto offload = run_ctxext({"plan", config, "model.preset=llama2-7b", "train.sharding=none",
                                   "train.offload=optimizer", "--host-memory", "2TB"});
  INFO(offload.output);
  CHECK(offload.exit_code == 0);
  CHECK_THAT(offload.output, Contains("\nfits"));
  const auto ok = run_ctxext({"plan", config, "model.preset=llama2-7b", "--gpus", "4"});
  INFO(ok.output);
  CHECK(ok.exit_code == 0);
  CHECK_THAT(ok.output, Contains("\nfits"));
  check_rejected({"plan", config, "model.preset=llama2-7b", "--gpu-memory", "abc"}, {"--gpu-memory", "abc"});
  check_rejected({"plan", config, "model.preset=llama2-7b", "--host-memory", "12XB"}, {"--host-memory"});
  check_rejected({"plan", config, "model.preset=llama2-7b", "--gpus", "0"}, {"--gpus"});
  check_rejected({"plan", config, "model.preset=llama2-7b", "train.sharding=half"}, {"train.sharding"});
  const auto help = run_ctxext({"plan", "--help"});
  CHECK(help.exit_code == 0);
  CHECK_THAT(help.output, Contains("--gpus") && Contains("--gpu-memory") && Contains("--host-memory"));
}
