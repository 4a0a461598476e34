// The training recipe end to end on a tiny model: learning, batch arithmetic, loss parity with
// HF, and the bad settings it must refuse.
#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>
#include <sstream>

#include "core/config.h"
#include "data/batching.h"
#include "data/dataset.h"
#include "io/safetensors.h"
#include "recipes/train_recipe.h"
#include "support/test_support.h"
#include "train_fixture.h"
#include "train_runs.h"

using namespace ctxext;
using namespace ctxext::testing;
using Catch::Matchers::Contains;

TEST_CASE("train: the loss falls while overfitting a handful of samples", "[train][recipe]") {
  TempDir dir;
  write_text(dir / "c.yaml", tiny_train_yaml((dir / "run").string()));
  run_recipe(dir / "c.yaml", {"train.steps=25", "train.lr=3e-3", "data.num_samples=4", "train.schedule=constant",
                              "checkpoint.every_steps=0", "export.enabled=false"});
  const auto rows = read_metrics(dir / "run" / "metrics.jsonl");
  REQUIRE(rows.size() == 25);
  const double first = rows.front()["loss"], last = rows.back()["loss"];
  INFO("first loss " << first << ", last loss " << last);
  CHECK(std::isfinite(last));
  CHECK(last < 0.5 * first);
  for (const auto& key : {"step", "loss", "lr", "grad_norm", "tokens", "tokens_per_s", "peak_mem_mb"})
    CHECK(rows.back().contains(key));
  CHECK(rows.back()["step"] == 25);
  CHECK(rows.back()["peak_mem_mb"].get<double>() > 0);
}

TEST_CASE("train: the recipe with accumulation 4 x micro-batch 1 follows micro-batch 4", "[train][recipe]") {
  TempDir dir;
  write_text(dir / "c.yaml", tiny_train_yaml((dir / "run").string()));
  const std::vector<std::string> common = {"train.steps=3", "train.global_batch_size=4", "checkpoint.every_steps=0",
                                           "export.enabled=false", "data.shuffle=false"};
  auto accumulated = common, whole = common;
  accumulated.insert(accumulated.end(), {"train.micro_batch_size=1", "output_dir=" + (dir / "acc").string()});
  whole.insert(whole.end(), {"train.micro_batch_size=4", "output_dir=" + (dir / "whole").string()});
  run_recipe(dir / "c.yaml", accumulated);
  run_recipe(dir / "c.yaml", whole);
  const auto a = read_metrics(dir / "acc" / "metrics.jsonl"), b = read_metrics(dir / "whole" / "metrics.jsonl");
  REQUIRE(a.size() == 3);
  REQUIRE(b.size() == 3);
  for (size_t i = 0; i < a.size(); ++i) {
    CHECK(a[i]["tokens"] == b[i]["tokens"]);
    CHECK(a[i]["loss"].get<double>() == Approx(b[i]["loss"].get<double>()).epsilon(1e-6));
    CHECK(a[i]["grad_norm"].get<double>() == Approx(b[i]["grad_norm"].get<double>()).epsilon(1e-6));
  }
  // The gradients themselves are compared at 1e-6 in tests/train/test_gradient_accumulation.cpp;
  // weights after AdamW are not a fair measure (Adam divides tiny gradient differences by |g|).
}

TEST_CASE("train: the masked loss equals HF LlamaForCausalLM's loss", "[train][recipe][oracle]") {
  TempDir dir;
  write_text(dir / "c.yaml", tiny_train_yaml((dir / "run").string()));
  // One step with lr ~0 leaves the weights as initialised; the metrics row holds our loss on the
  // first global batch, and the exported folder lets HF score the same batch.
  run_recipe(dir / "c.yaml", {"train.steps=1", "train.lr=1e-12", "train.max_grad_norm=0", "data.shuffle=false",
                              "train.micro_batch_size=4", "rope.type=none", "rope.factor=1"});
  const double ours = read_metrics(dir / "run" / "metrics.jsonl").at(0)["loss"];
  // The same first global batch (data.shuffle=false: samples 0..3), built by the data layer.
  const auto job = recipes::parse_job_config(Config::load((dir / "c.yaml").string(), {"data.shuffle=false"}));
  const auto tokenizer = data::Tokenizer::load(job.data.tokenizer);
  const auto dataset = data::load_dataset(job.data, tokenizer);
  const auto batch = data::make_batch(dataset.samples, {0, 1, 2, 3});
  const auto to_json = [](const torch::Tensor& t) {
    nlohmann::json rows = nlohmann::json::array();
    for (int64_t i = 0; i < t.size(0); ++i) {
      const auto row = t[i].contiguous();
      rows.push_back(std::vector<int64_t>(row.data_ptr<int64_t>(), row.data_ptr<int64_t>() + row.numel()));
    }
    return rows;
  };
  write_text(dir / "batch.json", nlohmann::json{{"input_ids", to_json(batch.input_ids)}, {"labels", to_json(batch.labels)}}.dump());
  const std::string out = run_oracle("hf_train_loss.py", {(dir / "run" / "export").string(), (dir / "batch.json").string()});
  const double theirs = nlohmann::json::parse(out.substr(out.rfind('{')))["loss"];
  INFO("ctxext " << ours << " vs HF " << theirs);
  CHECK(ours == Approx(theirs).epsilon(1e-5));
}

TEST_CASE("train: rope: is parsed once, over the checkpoint's RoPE settings",
          "[train][recipe][config]") {
  // An HF folder whose config.json is YaRN with beta_fast 64: `rope: {beta_slow: 40}` is valid over it
  // (40 < 64), though not over the built-in defaults (beta_fast 32), which the recipe's first parse
  // used to validate against before the checkpoint was read.
  TempDir dir;
  fs::create_directories(dir / "model");
  for (const char* file : {"model.safetensors", "tokenizer.model"})
    fs::copy_file(fs::path("data/tiny-base") / file, dir / "model" / file);
  auto hf = nlohmann::json::parse(read_text("data/tiny-base/config.json"));
  hf.erase("ctxext_rope");
  hf.erase("rope_parameters");
  hf["max_position_embeddings"] = 512;
  hf["rope_scaling"] = {{"rope_type", "yarn"}, {"factor", 2.0}, {"original_max_position_embeddings", 256},
                        {"beta_fast", 64.0}, {"beta_slow", 1.0}};
  write_text(dir / "model" / "config.json", hf.dump(2));
  write_text(dir / "c.yaml", "model:\n  path: " + (dir / "model").string() +
                                 "\nrope:\n  beta_slow: 40\ndata:\n  path: data/samples/tiny_chat.jsonl\n"
                                 "  max_seq_len: 128\n  num_samples: 2\ntrain:\n  steps: 1\n  global_batch_size: 2\n"
                                 "runtime:\n  threads: 1\noutput_dir: " + (dir / "run").string() + "\n");
  const auto checked = run_ctxext({"validate", (dir / "c.yaml").string()});
  INFO(checked.output);
  CHECK(checked.exit_code == 0);
  CHECK_THAT(checked.output, Contains("rope=yarn x2"));

  const Config config = Config::load((dir / "c.yaml").string());
  const recipes::JobConfig job = recipes::parse_job_config(config);
  CHECK(job.rope.type == "yarn");
  CHECK(job.rope.beta_fast == 64.0);
  CHECK(job.rope.beta_slow == 40.0);
  recipes::TrainRecipe recipe(config, job);  // a caller that parsed already: the recipe does not parse again
  recipe.setup();
  recipe.train();
  recipe.save();
  recipe.cleanup();
  const auto exported = nlohmann::json::parse(read_text(dir / "run" / "export" / "config.json"));
  INFO(exported.dump());
  CHECK(exported["rope_scaling"]["beta_fast"] == 64.0);
  CHECK(exported["rope_scaling"]["beta_slow"] == 40.0);
}
