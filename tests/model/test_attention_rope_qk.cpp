// The attention layer rotates q and k with ctxext::rope_qk (training) or in place with
// ctxext::rope_qk_ (no grad). Both paths must give bitwise the same logits, with and without the
// EABF query scale, GQA and interleaved pairs, so inference equals the training forward exactly.
#include <catch2/catch.hpp>
#include <torch/torch.h>

#include "model/llama_config.h"
#include "model/llama_model.h"

namespace {

ctxext::model::LlamaConfig gqa_config(const std::string& rope_type, bool interleaved) {
  auto config = ctxext::model::llama_preset("tiny");
  config.num_hidden_layers = 2;
  config.num_key_value_heads = 2;  // 8 query heads over 2 kv heads
  config.rope.type = rope_type;
  config.rope.interleaved = interleaved;
  config.rope.original_max_position_embeddings = 8;  // EABF's query scale exceeds 1 from position 8 on
  config.rope.eabf_skip_layers = 0;
  return config;
}

}  // namespace

TEST_CASE("attention: in-place rotation (no grad) gives bitwise the logits of the autograd path",
          "[model][rope_qk]") {
  for (const std::string type : {"none", "eabf"}) {
    for (bool interleaved : {false, true}) {
      INFO("rope " << type << ", interleaved " << interleaved);
      torch::manual_seed(7);
      ctxext::model::LlamaForCausalLM model(gqa_config(type, interleaved));
      const auto ids = torch::randint(0, model->config().vocab_size, {2, 24}, torch::kInt64);
      const auto with_grad = model->forward(ids);
      REQUIRE(with_grad.requires_grad());
      torch::Tensor no_grad;
      {
        torch::NoGradGuard guard;
        no_grad = model->forward(ids);
      }
      REQUIRE_FALSE(no_grad.requires_grad());
      CHECK(torch::equal(with_grad.detach(), no_grad));
    }
  }
}
