// Golden parity with HF transformers (the oracle): ctxext builds a random tiny model, exports it
// with its own exporter, stock LlamaForCausalLM loads the folder and runs the same tokens.
// Logits and the loss gradient of a few weights must agree within 1e-4 (float32), on sequences
// longer than max_position_embeddings. Each method's logits must also differ from plain RoPE's,
// so the method is really exercised.
#include <catch2/catch.hpp>
#include <torch/torch.h>

#include <iostream>

#include "hf_oracle_cases.h"
#include "io/safetensors.h"
#include "model/hf_config.h"
#include "model/llama_init.h"

using namespace ctxext;
using namespace ctxext::testing;

namespace {

struct Outputs {
  torch::Tensor logits;  // [2, s, vocab]
  torch::Tensor loss;    // [1]
  std::map<std::string, torch::Tensor> grads;
};

Outputs ctxext_outputs(const ParityCase& c, const rope::RopeOptions& rope) {
  auto config = c.config;
  config.rope = rope;
  auto model = model::make_random_llama(config, kWeightSeed, torch::kFloat32, kInitStd);
  const auto ids = parity_tokens(config, c.seq_len, kWeightSeed + 1);
  Outputs out;
  out.logits = model->forward(ids);
  const int64_t vocab = config.vocab_size;
  out.loss = torch::nn::functional::cross_entropy(out.logits.slice(1, 0, -1).reshape({-1, vocab}),
                                                  ids.slice(1, 1).reshape({-1}))
                 .reshape({1});
  out.loss.backward();
  const auto params = model->named_parameters();
  for (const auto& name : grad_names()) {
    // Tied models have no lm_head; every listed weight exists in all cases.
    out.grads[name] = params[name].grad().clone();
  }
  return out;
}

void check_parity(const std::string& name) {
  const auto& cases = parity_cases();
  const auto it = std::find_if(cases.begin(), cases.end(), [&](const ParityCase& c) { return c.name == name; });
  REQUIRE(it != cases.end());
  const ParityCase& c = *it;

  const auto oracle = io::read_safetensors(oracle_results().output(name));
  const auto ours = ctxext_outputs(c, c.config.rope);

  const double logits_err = max_abs_diff(ours.logits.detach(), oracle.tensors.at("logits"));
  const double loss_err = max_abs_diff(ours.loss.detach(), oracle.tensors.at("loss"));
  double grad_err = 0.0;
  for (const auto& g : grad_names()) {
    INFO("gradient of " << g);
    const double e = max_abs_diff(ours.grads.at(g), oracle.tensors.at("grad." + g));
    grad_err = std::max(grad_err, e);
    CHECK(e <= 1e-4);
  }
  std::cout << "parity " << name << ": max |logits diff| " << logits_err << ", max |grad diff| " << grad_err
            << ", |loss diff| " << loss_err << std::endl;
  CHECK(logits_err <= 1e-4);
  CHECK(loss_err <= 1e-5);

  // The method must matter: plain RoPE (theta 10000) on the same weights gives other logits.
  if (c.config.rope.type != "none" || c.config.rope.theta != 10000.0) {
    rope::RopeOptions plain;
    plain.original_max_position_embeddings = c.config.rope.original_max_position_embeddings;
    const auto baseline = ctxext_outputs(c, plain);
    CHECK(max_abs_diff(ours.logits.detach(), baseline.logits.detach()) > 1e-3);
  }
}

}  // namespace

TEST_CASE("parity: default RoPE (MHA), sequence beyond max_position_embeddings", "[parity]") {
  check_parity("default");
}
TEST_CASE("parity: default RoPE with changed rope_theta, GQA, explicit head_dim", "[parity]") {
  check_parity("default_theta_gqa_head_dim");
}
TEST_CASE("parity: MQA with tied embeddings (HF sdpa attention)", "[parity]") { check_parity("mqa_tied_sdpa"); }
TEST_CASE("parity: linear (pi)", "[parity]") { check_parity("linear"); }
TEST_CASE("parity: dynamic (dynamic_ntk) at a length beyond the original context", "[parity]") {
  check_parity("dynamic");
}
TEST_CASE("parity: yarn", "[parity]") { check_parity("yarn"); }
TEST_CASE("parity: yarn with non-default betas, mscale/mscale_all_dim, no truncation", "[parity]") {
  check_parity("yarn_betas_mscale");
}
TEST_CASE("parity: yarn with explicit attention_factor", "[parity]") { check_parity("yarn_attention_factor"); }
TEST_CASE("parity: llama3", "[parity]") { check_parity("llama3"); }
TEST_CASE("parity: abf (exported as HF default with rope_theta = abf_theta)", "[parity]") { check_parity("abf"); }
TEST_CASE("parity: ntk fixed alpha (exported as HF default with the equivalent rope_theta)", "[parity]") {
  check_parity("ntk");
}
TEST_CASE("parity: eabf against HF abf with the query scale re-derived in float64 hooks", "[parity]") {
  check_parity("eabf");
}
TEST_CASE("parity: ntk_by_parts (exported as HF yarn with attention_factor 1)", "[parity]") {
  check_parity("ntk_by_parts");
}
TEST_CASE("parity: longrope within the original context (short_factor)", "[parity]") {
  check_parity("longrope_short");
}
TEST_CASE("parity: longrope beyond the original context (long_factor)", "[parity]") { check_parity("longrope_long"); }
TEST_CASE("parity: legacy dialect rope_scaling {type: linear} + rope_theta", "[parity]") {
  check_parity("legacy_type_linear");
}
TEST_CASE("parity: legacy dialect rope_scaling {rope_type: dynamic} + rope_theta", "[parity]") {
  check_parity("legacy_rope_type_dynamic");
}
