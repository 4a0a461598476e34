#include "eval/attention_entropy.h"

#include <torch/torch.h>

#include <cmath>

#include "core/error.h"
#include "ops/rope.h"

namespace ctxext::eval {

// x: [1, s, h]; positions: [s]; tables.cos/sin: [s, h_d/2] -> [n_h, s]
torch::Tensor last_query_attention(LlamaDecoderLayerImpl& layer, const LlamaConfig& config, int64_t layer_index,
                                   const torch::Tensor& x, const torch::Tensor& positions, const RopeTables& tables) {
  const int64_t s = x.size(1);
  const int64_t n_h = config.num_attention_heads;
  const int64_t n_kv = config.num_key_value_heads;
  const int64_t h_d = config.resolved_head_dim();
  auto& attn = *layer.self_attn;
  const auto normed = layer.input_layernorm(x);
  const auto last = s - 1;
  // Only the last query is needed: rotate it with its own position's table row and query scale.
  const auto q = attn.q_proj(normed.slice(1, last, s)).view({1, 1, n_h, h_d});
  const auto k = attn.k_proj(normed).view({1, s, n_kv, h_d});
  std::optional<torch::Tensor> q_scale;
  if (auto scale = compute_query_scale(config.rope, positions, layer_index); scale.defined())
    q_scale = scale.slice(0, last, s);
  const auto q_rot = ops::rope(q, tables.cos.slice(0, last, s), tables.sin.slice(0, last, s), q_scale,
                               config.rope.interleaved)[0][0];  // [n_h, h_d]
  auto k_rot = ops::rope(k, tables.cos, tables.sin, std::nullopt, config.rope.interleaved)[0];  // [s, n_kv, h_d]
  // GQA: query head i reads key head i / (n_h / n_kv), as SDPA's enable_gqa and HF's repeat_kv do.
  k_rot = k_rot.repeat_interleave(n_h / n_kv, /*dim=*/1).permute({1, 2, 0});  // [n_h, h_d, s]
  const auto scores = torch::bmm(q_rot.to(torch::kFloat32).unsqueeze(1), k_rot.to(torch::kFloat32)).squeeze(1) /
                      std::sqrt(static_cast<double>(h_d));  // [n_h, s]
  // The last query sees every key: the causal mask removes nothing from its row.
  return torch::softmax(scores, -1);
}

// p: [..., s]
torch::Tensor entropy_nats(const torch::Tensor& p) {
  const auto p64 = p.to(torch::kFloat64);
  return -(p64 * torch::where(p64 > 0, p64.log(), torch::zeros_like(p64))).sum(-1);
}

// input_ids: [s]
EntropyProbe probe_attention_entropy(LlamaForCausalLMImpl& model, const torch::Tensor& input_ids) {
  if (input_ids.dim() != 1 || input_ids.size(0) < 1) fail("attention entropy: expected a non-empty 1-d token tensor");
  torch::InferenceMode inference;
  const bool was_training = model.is_training();
  model.eval();
  const auto& config = model.config();
  const auto device = model.model->embed_tokens->weight.device();
  const auto ids = input_ids.to(device).unsqueeze(0);  // [1, s]
  const int64_t s = ids.size(1);
  const auto positions = torch::arange(s, torch::TensorOptions().dtype(torch::kInt64).device(device));
  // The same tables LlamaModel::forward computes for one call over s tokens.
  const auto tables = compute_rope_tables(config.rope, config.resolved_head_dim(), positions, s);

  EntropyProbe probe;
  probe.length = s;
  auto x = model.model->embed_tokens(ids);
  for (size_t i = 0; i < model.model->layers->size(); ++i) {
    auto layer = model.model->layers->ptr<LlamaDecoderLayerImpl>(i);
    const auto p = last_query_attention(*layer, config, static_cast<int64_t>(i), x, positions, tables);
    const auto h = entropy_nats(p).cpu();
    std::vector<double> heads(h.data_ptr<double>(), h.data_ptr<double>() + h.numel());
    probe.per_layer.push_back(h.mean().item<double>());
    probe.per_head.push_back(std::move(heads));
    x = layer->forward(x, positions, tables);
  }
  probe.final_hidden = model.model->norm(x);
  model.train(was_training);
  return probe;
}

}  // namespace ctxext::eval
