// The attention-entropy probe: its hidden states are the model's, the probabilities LlamaAttention
// reports for a query are the attention the layer applies (o_proj of p·V equals the layer's
// attention output), and their entropy equals a float64 re-derivation from the explicitly
// materialised causal attention matrix, for the last query and for an earlier one.
#include <catch2/catch.hpp>
#include <torch/torch.h>

#include <cmath>

#include "eval/attention_entropy.h"
#include "eval_fixtures.h"
#include "model/attention_probe.h"
#include "rope/rope_method.h"

using namespace ctxext;
using namespace ctxext::eval;
using namespace ctxext::testing;

namespace {

// HF's rotate_half rotation in float64. x: [s, n, d]; angles: [s, d/2]
torch::Tensor rotate64(const torch::Tensor& x, const torch::Tensor& angles, double scaling) {
  const auto cos = torch::cat({angles.cos(), angles.cos()}, -1).unsqueeze(1) * scaling;
  const auto sin = torch::cat({angles.sin(), angles.sin()}, -1).unsqueeze(1) * scaling;
  const int64_t half = x.size(-1) / 2;
  const auto rot = torch::cat({-x.slice(-1, half), x.slice(-1, 0, half)}, -1);
  return x * cos + rot * sin;
}

// Entropy of row `query` of each head's full causal attention matrix, everything in float64.
// x: [1, s, h] the layer input -> [n_h]
torch::Tensor reference_entropy(model::LlamaDecoderLayerImpl& layer, const model::LlamaConfig& c, int64_t layer_index,
                                const torch::Tensor& x, int64_t query) {
  const int64_t s = x.size(1), n_h = c.num_attention_heads, n_kv = c.num_key_value_heads;
  const int64_t d = c.resolved_head_dim();
  const auto normed = layer.input_layernorm(x)[0].to(torch::kFloat64);  // [s, h]
  auto q = torch::matmul(normed, layer.self_attn->q_proj->weight.to(torch::kFloat64).t()).view({s, n_h, d});
  auto k = torch::matmul(normed, layer.self_attn->k_proj->weight.to(torch::kFloat64).t()).view({s, n_kv, d});
  const auto freqs = rope::compute_rope_frequencies(c.rope, d, s);
  const auto pos = torch::arange(s, torch::kFloat64);
  const auto angles = pos.unsqueeze(1) * freqs.inv_freq.to(torch::kFloat64).unsqueeze(0);
  q = rotate64(q, angles, freqs.attention_scaling);
  k = rotate64(k, angles, freqs.attention_scaling);
  if (c.rope.type == "eabf" && layer_index >= c.rope.eabf_skip_layers)
    q = q * torch::clamp_min((pos + 1).log() / std::log(c.rope.eabf_context), 1.0).view({s, 1, 1});
  k = k.repeat_interleave(n_h / n_kv, 1);
  auto scores = torch::einsum("qhd,khd->hqk", {q, k}) / std::sqrt(static_cast<double>(d));  // [n_h, s, s]
  const auto causal = torch::ones({s, s}, torch::kBool).triu(1);
  scores = scores.masked_fill(causal, -std::numeric_limits<double>::infinity());
  const auto p = torch::softmax(scores, -1).select(1, query).slice(1, 0, query + 1);  // [n_h, query + 1]
  return -(p * p.log()).sum(-1);
}

}  // namespace

TEST_CASE("attention entropy: probe == model hidden states, == the layer's attention, == float64 entropy",
          "[eval][entropy]") {
  for (const char* method : {"none", "yarn", "dynamic_ntk", "eabf"}) {
    INFO(method);
    auto model = eval_model(method);
    const auto& c = model->config();
    const auto ids = torch::tensor(eval_tokens(100), torch::kInt64);  // > L0: dynamic_ntk rescales
    const auto probe = probe_attention_entropy(*model, ids);
    torch::NoGradGuard no_grad;
    CHECK((probe.final_hidden - model->model(ids.unsqueeze(0))).abs().max().item<double>() < 1e-5);
    REQUIRE(probe.per_layer.size() == 2);

    const auto positions = torch::arange(100, torch::kInt64);
    const auto tables = rope::compute_rope_tables(c.rope, c.resolved_head_dim(), positions, 100);
    auto x = model->model->embed_tokens(ids.unsqueeze(0));
    for (int64_t i = 0; i < 2; ++i) {
      auto layer = model->model->layers->ptr<model::LlamaDecoderLayerImpl>(i);
      model::AttentionProbe request{{99, 40}, {}};
      layer->self_attn->forward(layer->input_layernorm(x), positions, tables, nullptr, &request);
      REQUIRE(request.probabilities.size() == 1);
      const auto p = request.probabilities[0].select(1, 0);  // [n_h, s]: the last query
      CHECK((p.sum(-1) - 1).abs().max().item<double>() < 1e-5);
      // o_proj(sum_j p_j v_j) is the layer's attention output at the last position.
      const auto v = layer->self_attn->v_proj(layer->input_layernorm(x))[0].view({100, 2, 16})
                         .repeat_interleave(2, 1);                              // [s, n_h, d]
      const auto mixed = torch::einsum("hk,khd->hd", {p, v}).reshape({1, 64});  // [1, n_h * d]
      const auto expected = layer->self_attn->forward(layer->input_layernorm(x), positions, tables)[0][99];
      CHECK((layer->self_attn->o_proj(mixed)[0] - expected).abs().max().item<double>() < 1e-5);

      const auto reference = reference_entropy(*layer, c, i, x, 99);
      for (int64_t h = 0; h < 4; ++h)
        CHECK(probe.per_head[i][h] == Approx(reference[h].item<double>()).margin(1e-4));
      CHECK(probe.per_layer[i] == Approx(reference.mean().item<double>()).margin(1e-4));
      // Query 40 sees keys 0..40 only: zero past them, and the float64 row's entropy.
      const auto p40 = request.probabilities[0].select(1, 1);  // [n_h, s]
      CHECK(p40.slice(1, 41).abs().max().item<double>() == 0.0);
      const auto reference40 = reference_entropy(*layer, c, i, x, 40);
      const auto entropy40 = entropy_nats(p40);
      for (int64_t h = 0; h < 4; ++h) CHECK(entropy40[h].item<double>() == Approx(reference40[h].item<double>()).margin(1e-4));
      x = layer->forward(x, positions, tables);
    }
  }
  // A uniform distribution over n keys has entropy ln n.
  CHECK(entropy_nats(torch::full({8}, 1.0 / 8)).item<double>() == Approx(std::log(8.0)));
  CHECK(entropy_nats(torch::tensor({1.0, 0.0})).item<double>() == 0.0);
}
