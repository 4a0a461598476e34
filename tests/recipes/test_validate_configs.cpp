// Every YAML config shipped under configs/ validates. The paper configs leave model.path and
// data.path to the user (null in the file): they are validated with those two filled in. The second
// pretraining stage starts from the first stage's output (runs/...), which a fresh clone lacks: its
// model.path is pointed at a folder with a 7B-shaped config.json and the embedded tokenizer (validate
// reads those, never the weights), the data at the embedded fine-tuning set (min_tokens lowered to keep it).
#include <catch2/catch.hpp>

#include "model/hf_config.h"
#include "support/test_support.h"

using namespace ctxext::testing;
using Catch::Matchers::Contains;

TEST_CASE("validate: every config under configs/ is valid", "[config][cli]") {
  TempDir dir;
  fs::create_directories(dir / "model");
  ctxext::model::write_hf_config(dir / "model" / "config.json", ctxext::model::llama_preset("llama2-7b"), torch::kBFloat16);
  fs::copy_file("data/tokenizer.model", dir / "model" / "tokenizer.model");
  fs::copy_file("data/finetune/long_conversations.jsonl", dir / "chat.jsonl");
  int checked = 0;
  for (const auto& entry : fs::recursive_directory_iterator("configs")) {
    if (entry.path().extension() != ".yaml") continue;
    const std::string text = read_text(entry.path());
    std::vector<std::string> args = {"validate", entry.path().string()};
    if (text.find("\nmethods:") == std::string::npos) args.push_back("runtime.device=cpu");  // no GPU needed here
    if (text.find("  path: null") != std::string::npos) {
      args.push_back("model.path=" + (dir / "model").string());
      args.push_back("data.path=" + (dir / "chat.jsonl").string());
      args.push_back("data.min_tokens=1");  // the embedded conversations are shorter than the paper's
    } else if (text.find("  path: runs/") != std::string::npos) {
      args.push_back("model.path=" + (dir / "model").string());
    }
    const auto result = run_ctxext(args);
    INFO(entry.path() << ": " << result.output);
    CHECK(result.exit_code == 0);
    CHECK_THAT(result.output, Contains(": ok"));
    if (text.find("\nmethods:") == std::string::npos) CHECK_THAT(result.output, Contains("\nplan: "));
    ++checked;
  }
  CHECK(checked >= 17);
}

TEST_CASE("validate: a bad key or value fails with exit 2 and names it", "[config][cli]") {
  TempDir dir;
  write_text(dir / "c.yaml", "model:\n  preset: tiny\ndata:\n  path: x.jsonl\nrope:\n  type: yarn\n  factr: 2\n");
  auto r = run_ctxext({"validate", (dir / "c.yaml").string()});
  CHECK(r.exit_code == 2);
  CHECK_THAT(r.output, Contains("c.yaml:7") && Contains("unknown key 'rope.factr'"));
  r = run_ctxext({"validate", (dir / "c.yaml").string(), "rope.factr=", "rope.factor=0.5"});
  CHECK(r.exit_code == 2);
  r = run_ctxext({"validate", (dir / "missing.yaml").string()});
  CHECK(r.exit_code == 2);
  CHECK_THAT(r.output, Contains("missing.yaml"));
}

TEST_CASE("validate: a training config prints the plan derived from its data", "[config][cli]") {
  // The tiny recipe: 100 samples after the length policy, 2 epochs of global batch 32.
  auto r = run_ctxext({"validate", "configs/tiny/eabf.yaml"});
  INFO(r.output);
  CHECK(r.exit_code == 0);
  CHECK_THAT(r.output, Contains("epochs=2") &&
                           Contains("plan: 6 steps = 2 epochs x 3 steps of global batch 32 over 100 samples "
                                    "(4 dropped per epoch); global batch 32 = micro 4 x accumulation 8; tokens "));
  r = run_ctxext({"validate", "configs/tiny/eabf.yaml", "train.epochs=null", "train.steps=4"});
  CHECK(r.exit_code == 0);
  CHECK_THAT(r.output, Contains("plan: 4 steps of global batch 32 over 100 samples, 3 steps per epoch (4 dropped "
                                "per epoch): 2 epochs, the last one partial"));
  // Problems training would meet at setup are met here.
  r = run_ctxext({"validate", "configs/tiny/eabf.yaml", "data.num_samples=20"});
  CHECK(r.exit_code == 2);
  CHECK_THAT(r.output, Contains("train.global_batch_size = 32") && Contains("20 samples"));
  r = run_ctxext({"validate", "configs/tiny/eabf.yaml", "train.steps=5"});
  CHECK(r.exit_code == 2);
  CHECK_THAT(r.output, Contains("train.epochs = 2 and train.steps = 5 disagree"));

  // Without a readable tokenizer validate refuses (recipes/preflight.h), naming what to fix.
  TempDir dir;
  fs::create_directories(dir / "model");
  ctxext::model::write_hf_config(dir / "model" / "config.json", ctxext::model::llama_preset("llama2-7b"), torch::kBFloat16);
  fs::copy_file("data/finetune/long_conversations.jsonl", dir / "chat.jsonl");
  r = run_ctxext({"validate", "configs/llama2-7b-chat/eabf.yaml", "model.path=" + (dir / "model").string(),
                  "data.path=" + (dir / "chat.jsonl").string(), "runtime.device=cpu"});
  INFO(r.output);
  CHECK(r.exit_code == 2);
  CHECK_THAT(r.output, Contains("has no tokenizer.model") && Contains("set data.tokenizer"));
}
