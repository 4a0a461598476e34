#include "model/llama_attention.h"

#include <torch/torch.h>

#include "ops/rope.h"

namespace ctxext {

LlamaAttentionImpl::LlamaAttentionImpl(const LlamaConfig& config, int64_t layer_index)
    : rope_(config.rope),
      layer_index_(layer_index),
      num_heads_(config.num_attention_heads),
      num_kv_heads_(config.num_key_value_heads),
      head_dim_(config.resolved_head_dim()) {
  const auto linear = [](int64_t in, int64_t out) { return torch::nn::LinearOptions(in, out).bias(false); };
  const int64_t h = config.hidden_size;
  q_proj = register_module("q_proj", torch::nn::Linear(linear(h, num_heads_ * head_dim_)));
  k_proj = register_module("k_proj", torch::nn::Linear(linear(h, num_kv_heads_ * head_dim_)));
  v_proj = register_module("v_proj", torch::nn::Linear(linear(h, num_kv_heads_ * head_dim_)));
  o_proj = register_module("o_proj", torch::nn::Linear(linear(num_heads_ * head_dim_, h)));
}

// x: [b, s, h]; positions: [s]; tables.cos/sin: [s, h_d/2]
torch::Tensor LlamaAttentionImpl::forward(const torch::Tensor& x, const torch::Tensor& positions,
                                          const RopeTables& tables, KvCache* cache) {
  const int64_t b = x.size(0);
  const int64_t s = x.size(1);
  // The rotation op works in [b, s, n, h_d], the projections' natural layout.
  const auto q = q_proj(x).view({b, s, num_heads_, head_dim_});
  const auto k = k_proj(x).view({b, s, num_kv_heads_, head_dim_});
  const auto v = v_proj(x).view({b, s, num_kv_heads_, head_dim_});

  std::optional<torch::Tensor> query_scale;
  if (auto scale = compute_query_scale(rope_, positions, layer_index_); scale.defined()) query_scale = scale;

  // SDPA wants [b, n, s, h_d].
  auto q_rot = ops::rope(q, tables.cos, tables.sin, query_scale, rope_.interleaved).transpose(1, 2);
  auto k_rot = ops::rope(k, tables.cos, tables.sin, std::nullopt, rope_.interleaved).transpose(1, 2);
  auto v_t = v.transpose(1, 2);

  int64_t past = 0;
  if (cache) {
    past = cache->length();
    std::tie(k_rot, v_t) = cache->append(layer_index_, k_rot, v_t);
  }

  // Without a cache the mask is the plain causal one. With `past` cached positions, query i sits at
  // position past + i and sees keys 0..past + i (SDPA's is_causal would align the mask top-left).
  std::optional<torch::Tensor> mask;
  const bool causal = past == 0;
  if (past > 0 && s > 1) {
    const auto key_pos = torch::arange(past + s, torch::TensorOptions().dtype(torch::kInt64).device(x.device()));
    const auto query_pos = key_pos.slice(0, past);
    mask = key_pos.unsqueeze(0) <= query_pos.unsqueeze(1);  // [s, past + s] bool
  }
  const auto out = at::scaled_dot_product_attention(q_rot, k_rot, v_t, mask, /*dropout_p=*/0.0, causal,
                                                    /*scale=*/std::nullopt,
                                                    /*enable_gqa=*/num_kv_heads_ != num_heads_);
  return o_proj(out.transpose(1, 2).reshape({b, s, num_heads_ * head_dim_}));
}

}  // namespace ctxext
