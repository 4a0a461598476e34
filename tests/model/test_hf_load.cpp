// The load direction: folders written by HF's save_pretrained (transformers 5's rope_parameters
// dialect; a single float32 file, and bfloat16 sharded with a small max_shard_size) load in ctxext
// with the logits HF computes from them.
#include <catch2/catch.hpp>
#include <torch/torch.h>

#include <iostream>

#include "hf_oracle_cases.h"
#include "io/safetensors.h"
#include "model/hf_checkpoint.h"
#include "model/hf_config.h"

using namespace ctxext;
using namespace ctxext::testing;

namespace {

torch::Tensor saved_tokens() { return parity_tokens(tiny_config(), 96, kWeightSeed + 2); }

}  // namespace

TEST_CASE("load: HF save_pretrained float32 folder (yarn) gives HF's logits", "[load]") {
  const auto& results = oracle_results();
  const auto folder = results.saved_folder("saved_f32_yarn");
  const auto config = model::read_hf_config(folder / "config.json");
  CHECK(config.rope.type == "yarn");
  CHECK(config.rope.factor == 2.0);
  CHECK(config.num_key_value_heads == 2);

  auto model = model::load_hf_model(folder, torch::kFloat32);
  torch::NoGradGuard no_grad;
  const auto logits = model->forward(saved_tokens());
  const auto oracle = io::read_safetensors(results.output("saved_f32_yarn"));
  const double err = max_abs_diff(logits, oracle.tensors.at("logits"));
  std::cout << "load saved_f32_yarn: max |logits diff| " << err << std::endl;
  CHECK(err <= 1e-4);
}

TEST_CASE("load: HF save_pretrained bfloat16 sharded folder (llama3) in float32 and bfloat16", "[load]") {
  const auto& results = oracle_results();
  const auto folder = results.saved_folder("saved_bf16_sharded_llama3");
  REQUIRE(std::filesystem::exists(folder / "model.safetensors.index.json"));
  const auto config = model::read_hf_config(folder / "config.json");
  CHECK(config.rope.type == "llama3");
  CHECK(config.rope.original_max_position_embeddings == 32);
  CHECK(config.rope.theta == 50000.0);
  const auto oracle = io::read_safetensors(results.output("saved_bf16_sharded_llama3"));
  torch::NoGradGuard no_grad;

  auto f32 = model::load_hf_model(folder, torch::kFloat32);
  const double err32 = max_abs_diff(f32->forward(saved_tokens()), oracle.tensors.at("logits"));
  CHECK(err32 <= 1e-4);

  // bf16 rounding is the error budget: ctxext's bf16 model may stray from the float32 logits no more
  // than HF's own bf16 model does (HF rotates in bf16, ctxext's op in float32, so they differ slightly).
  auto bf16 = model::load_hf_model(folder, torch::kBFloat16);
  CHECK(bf16->model->embed_tokens->weight.scalar_type() == torch::kBFloat16);
  const auto exact = oracle.tensors.at("logits");
  const auto hf16 = oracle.tensors.at("logits_native");
  const auto ours16 = bf16->forward(saved_tokens());
  const double hf_max = max_abs_diff(hf16, exact);
  const double hf_mean = (hf16 - exact).abs().mean().item<double>();
  const double our_max = max_abs_diff(ours16, exact);
  const double our_mean = (ours16 - exact).abs().mean().item<double>();
  std::cout << "load saved_bf16_sharded_llama3: max |logits diff| f32 " << err32 << "; bf16 vs f32 logits: ctxext max "
            << our_max << " mean " << our_mean << ", HF max " << hf_max << " mean " << hf_mean << std::endl;
  CHECK(our_max <= 1.5 * hf_max);
  CHECK(our_mean <= 1.5 * hf_mean);
}
