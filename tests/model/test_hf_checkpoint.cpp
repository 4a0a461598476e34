// Checkpoint folders: every tensor-validation rejection, and export -> load round trips in C++.
#include <catch2/catch.hpp>
#include <torch/torch.h>

#include "core/error.h"
#include "hf_oracle_cases.h"
#include "io/checkpoint_tensors.h"
#include "model/hf_checkpoint.h"
#include "model/hf_config.h"
#include "model/llama_init.h"
#include "support/test_support.h"

using namespace ctxext;
using namespace ctxext::testing;
using Catch::Matchers::Contains;

namespace {

// A valid folder for tiny_config(), whose tensors the test then breaks.
struct BrokenFolder {
  TempDir dir;
  model::LlamaConfig config = tiny_config();
  std::map<std::string, torch::Tensor> tensors;

  BrokenFolder() {
    auto model = model::make_random_llama(config, 3);
    tensors = model::model_tensors(*model);
  }
  std::string write() {
    model::write_hf_config(dir / "config.json", config, torch::kFloat32);
    io::write_checkpoint_tensors(dir.path(), tensors);
    return dir.path().string();
  }
};

}  // namespace

TEST_CASE("checkpoint rejects: a missing tensor, naming it and its expected shape", "[checkpoint][reject]") {
  BrokenFolder f;
  f.tensors.erase("model.layers.1.mlp.up_proj.weight");
  const auto folder = f.write();
  CHECK_THROWS_AS(model::read_hf_checkpoint(folder), Error);
  CHECK_THROWS_WITH(model::read_hf_checkpoint(folder),
                    Contains(folder) && Contains("missing tensor 'model.layers.1.mlp.up_proj.weight'") &&
                        Contains("[96, 64]"));
}

TEST_CASE("checkpoint rejects: an unexpected tensor", "[checkpoint][reject]") {
  BrokenFolder f;
  f.tensors["model.layers.2.mlp.up_proj.weight"] = torch::zeros({96, 64});  // a third layer the config lacks
  const auto folder = f.write();
  CHECK_THROWS_WITH(model::read_hf_checkpoint(folder),
                    Contains(folder) && Contains("unexpected tensor 'model.layers.2.mlp.up_proj.weight'"));
}

TEST_CASE("checkpoint rejects: a wrong-shaped tensor, with expected and found shapes", "[checkpoint][reject]") {
  BrokenFolder f;
  f.tensors["model.layers.0.self_attn.k_proj.weight"] = torch::zeros({32, 64});
  const auto folder = f.write();
  CHECK_THROWS_WITH(model::read_hf_checkpoint(folder), Contains(folder) &&
                                                    Contains("'model.layers.0.self_attn.k_proj.weight'") &&
                                                    Contains("expected shape [64, 64]") && Contains("found [32, 64]"));
}

TEST_CASE("checkpoint rejects: a non-float weight dtype", "[checkpoint][reject]") {
  BrokenFolder f;
  f.tensors["model.norm.weight"] = torch::ones({64}, torch::kInt32);
  const auto folder = f.write();
  CHECK_THROWS_WITH(model::read_hf_checkpoint(folder), Contains("'model.norm.weight'") && Contains("dtype"));
}

TEST_CASE("checkpoint rejects: a folder without config.json", "[checkpoint][reject]") {
  BrokenFolder f;
  io::write_checkpoint_tensors(f.dir.path(), f.tensors);
  CHECK_THROWS_WITH(model::read_hf_checkpoint(f.dir.path()), Contains("config.json") && Contains("cannot open"));
}

TEST_CASE("checkpoint: rotary inv_freq buffers of old HF checkpoints are ignored", "[checkpoint]") {
  BrokenFolder f;
  f.tensors["model.layers.0.self_attn.rotary_emb.inv_freq"] = torch::ones({8});
  const auto folder = f.write();
  CHECK_NOTHROW(model::load_hf_model(folder));
}

TEST_CASE("checkpoint: export then load gives the same logits (fp32, bf16, sharded), tokenizer files copied",
          "[checkpoint][export]") {
  auto config = tiny_config();
  config.num_key_value_heads = 2;
  config.rope.type = "yarn";
  config.rope.factor = 2.0;
  auto model = model::make_random_llama(config, 11, torch::kFloat32, kInitStd);
  const auto ids = parity_tokens(config, 80, 5);
  torch::NoGradGuard no_grad;
  const auto reference = model->forward(ids);

  TempDir dir;
  write_text(dir / "tokenizer.model", "not really a tokenizer");
  write_text(dir / "tokenizer_config.json", "{}");
  model::ExportOptions options;
  options.tokenizer_source = dir.path();
  options.max_shard_bytes = 40000;  // several shards + index
  model::export_hf_checkpoint(model::model_tensors(*model), config, dir / "out", options);
  CHECK(fs::exists(dir / "out" / "model.safetensors.index.json"));
  CHECK(read_text(dir / "out" / "tokenizer.model") == "not really a tokenizer");
  CHECK(fs::exists(dir / "out" / "tokenizer_config.json"));

  auto loaded = model::load_hf_model(dir / "out");
  CHECK(loaded->config().rope.type == "yarn");
  CHECK(torch::equal(loaded->forward(ids), reference));

  // bf16 tensors on disk, loaded as bf16 and as fp32.
  auto tensors = model::model_tensors(*model);
  for (auto& [name, t] : tensors) t = t.to(torch::kBFloat16);
  model::export_hf_checkpoint(tensors, config, dir / "out_bf16");
  CHECK(model::read_hf_checkpoint(dir / "out_bf16").tensors.at("lm_head.weight").scalar_type() == torch::kBFloat16);
  auto bf16 = model::load_hf_model(dir / "out_bf16", torch::kBFloat16);
  const auto logits16 = bf16->forward(ids);
  CHECK(logits16.scalar_type() == torch::kFloat32);
  // bf16 rounding through two layers: a few percent of the logits' scale (HF's own bf16 model strays
  // as far, see test_hf_load.cpp).
  const double scale = reference.abs().max().item<double>();
  CHECK(max_abs_diff(logits16, reference) < 5e-2 * scale);
  CHECK((logits16 - reference).abs().mean().item<double>() < 2.5e-2 * reference.abs().mean().item<double>());
  auto widened = model::load_hf_model(dir / "out_bf16", torch::kFloat32);
  CHECK(max_abs_diff(widened->forward(ids), reference) < 2e-2 * scale);
}

TEST_CASE("checkpoint: a failing export leaves no output folder", "[checkpoint][export]") {
  BrokenFolder f;
  f.tensors.erase("lm_head.weight");
  CHECK_THROWS_WITH(model::export_hf_checkpoint(f.tensors, f.config, f.dir / "out"), Contains("lm_head.weight"));
  CHECK_FALSE(fs::exists(f.dir / "out"));
  std::size_t entries = 0;
  for ([[maybe_unused]] const auto& e : fs::directory_iterator(f.dir.path())) ++entries;
  CHECK(entries == 0);  // no temporary sibling either
}
