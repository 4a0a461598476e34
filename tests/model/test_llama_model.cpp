// Model structure and behaviour without the oracle: HF names, presets, KV-cache decoding, GQA.
#include <catch2/catch.hpp>
#include <torch/torch.h>

#include "hf_oracle_cases.h"
#include "model/hf_checkpoint.h"
#include "model/llama_init.h"
#include "model/llama_model.h"

using namespace ctxext;
using namespace ctxext::testing;
using Catch::Matchers::Contains;

TEST_CASE("llama presets: parameter counts of the published models", "[model]") {
  // Published totals: LLaMA-2 7B 6,738,415,616; 13B 13,015,864,320; 70B 68,976,648,192.
  CHECK(model::llama_preset("llama2-7b").num_parameters() == 6738415616);
  CHECK(model::llama_preset("llama2-13b").num_parameters() == 13015864320);
  const auto c70 = model::llama_preset("llama2-70b");
  CHECK(c70.num_parameters() == 68976648192);
  CHECK(c70.num_key_value_heads == 8);
  CHECK(c70.intermediate_size == 28672);
  CHECK_THROWS_WITH(model::llama_preset("llama2-8b"), Contains("llama2-8b") && Contains("tiny"));
  for (const char* name : {"llama2-7b", "llama2-13b", "llama2-70b", "tiny"}) CHECK_NOTHROW(model::llama_preset(name).validate(name));
}

TEST_CASE("llama model: parameter names and shapes are HF's state_dict", "[model]") {
  for (bool tied : {false, true}) {
    auto config = tiny_config();
    config.num_key_value_heads = 2;
    config.tie_word_embeddings = tied;
    model::LlamaForCausalLM model(config);
    const auto expected = model::expected_tensor_shapes(config);
    const auto params = model->named_parameters();
    CHECK(params.size() == expected.size());
    int64_t total = 0;
    for (const auto& item : params) {
      INFO(item.key());
      REQUIRE(expected.count(item.key()) == 1);
      CHECK(item.value().sizes() == c10::IntArrayRef(expected.at(item.key())));
      total += item.value().numel();
    }
    CHECK(total == config.num_parameters());
  }
}

TEST_CASE("llama model: seeded init is reproducible and HF-like", "[model]") {
  const auto config = tiny_config();
  auto a = model::make_random_llama(config, 42);
  auto b = model::make_random_llama(config, 42);
  auto c = model::make_random_llama(config, 43);
  const auto wa = a->model->layers[0]->as<model::LlamaDecoderLayerImpl>()->self_attn->q_proj->weight;
  CHECK(torch::equal(wa, b->model->layers[0]->as<model::LlamaDecoderLayerImpl>()->self_attn->q_proj->weight));
  CHECK_FALSE(torch::equal(wa, c->model->layers[0]->as<model::LlamaDecoderLayerImpl>()->self_attn->q_proj->weight));
  CHECK(std::abs(wa.std().item<double>() - 0.02) < 0.002);
  CHECK(torch::equal(a->model->norm->weight, torch::ones({64})));
}

TEST_CASE("llama model: KV-cache decoding equals the full forward (incl. EABF and GQA)", "[model]") {
  for (const std::string type : {"none", "yarn", "eabf"}) {
    INFO("rope " << type);
    auto config = tiny_config();
    config.num_key_value_heads = 2;
    config.rope.type = type;
    config.rope.factor = 2.0;
    config.rope.eabf_context = 8.0;
    config.rope.eabf_skip_layers = 1;
    auto model = model::make_random_llama(config, 9, torch::kFloat32, kInitStd);
    const auto ids = parity_tokens(config, 40, 1);
    torch::NoGradGuard no_grad;
    const auto full = model->forward(ids);

    auto cache = model->make_cache();
    std::vector<torch::Tensor> parts;
    parts.push_back(model->forward(ids.slice(1, 0, 25), &cache));  // prefill
    parts.push_back(model->forward(ids.slice(1, 25, 31), &cache)); // a chunk after a prefix: the offset mask
    for (int64_t t = 31; t < 40; ++t) parts.push_back(model->forward(ids.slice(1, t, t + 1), &cache));
    CHECK(cache.length() == 40);
    CHECK(max_abs_diff(torch::cat(parts, 1), full) < 1e-5);
  }
}

TEST_CASE("llama model: GQA equals MHA with each key/value head repeated", "[model]") {
  auto gqa_config = tiny_config();
  gqa_config.num_key_value_heads = 2;
  auto mha_config = tiny_config();
  auto gqa = model::make_random_llama(gqa_config, 5, torch::kFloat32, kInitStd);
  model::LlamaForCausalLM mha(mha_config);
  auto tensors = model::model_tensors(*gqa);
  // kv head j serves query heads 2j and 2j+1: repeat each head's 16 rows twice.
  for (auto& [name, t] : tensors)
    if (name.find("k_proj") != std::string::npos || name.find("v_proj") != std::string::npos)
      t = t.view({2, 1, 16, 64}).expand({2, 2, 16, 64}).reshape({64, 64});
  model::copy_tensors_into(*mha, tensors, "test");
  const auto ids = parity_tokens(gqa_config, 30, 2);
  torch::NoGradGuard no_grad;
  CHECK(max_abs_diff(gqa->forward(ids), mha->forward(ids)) < 1e-5);
}

TEST_CASE("llama model: bf16 forward returns float32 logits close to fp32", "[model]") {
  const auto config = tiny_config();
  auto f32 = model::make_random_llama(config, 8);
  auto b16 = model::make_random_llama(config, 8, torch::kBFloat16);
  CHECK(b16->lm_head->weight.scalar_type() == torch::kBFloat16);
  const auto ids = parity_tokens(config, 20, 3);
  torch::NoGradGuard no_grad;
  const auto logits = b16->forward(ids);
  CHECK(logits.scalar_type() == torch::kFloat32);
  CHECK(max_abs_diff(logits, f32->forward(ids)) < 2e-2);
}

TEST_CASE("llama model: activation checkpointing gives the same loss gradient", "[model]") {
  const auto config = tiny_config();
  const auto ids = parity_tokens(config, 24, 4);
  std::vector<torch::Tensor> grads;
  for (bool checkpointing : {false, true}) {
    auto model = model::make_random_llama(config, 6, torch::kFloat32, kInitStd);
    model->model->set_activation_checkpointing(checkpointing);
    model->train();
    model->forward(ids).logsumexp(-1).mean().backward();
    grads.push_back(model->model->embed_tokens->weight.grad().clone());
  }
  CHECK(max_abs_diff(grads[0], grads[1]) < 1e-6);
}
