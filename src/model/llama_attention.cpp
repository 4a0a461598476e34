#include "model/llama_attention.h"

#include <torch/torch.h>

#include <cmath>

#include "core/error.h"
#include "ops/rope.h"

namespace ctxext::model {

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
                                          const rope::RopeTables& tables, KvCache* cache, AttentionProbe* probe) {
  const int64_t b = x.size(0);
  const int64_t s = x.size(1);
  // The rotation op works in [b, s, n, h_d], the projections' natural layout.
  auto k = k_proj(x).view({b, s, num_kv_heads_, head_dim_});
  const auto v = v_proj(x).view({b, s, num_kv_heads_, head_dim_});

  std::optional<torch::Tensor> query_scale;
  if (auto scale = rope::compute_query_scale(rope_, positions, layer_index_); scale.defined()) query_scale = scale;

  // q and k rotated by one op (the query scale on q only); in place when neither needs a gradient.
  auto q = q_proj(x).view({b, s, num_heads_, head_dim_});
  torch::Tensor q_rot, k_rot;
  if (!q.requires_grad() && !k.requires_grad() && q.is_contiguous() && k.is_contiguous()) {
    ops::rope_qk_(q, k, tables.cos, tables.sin, query_scale, rope_.interleaved);
    q_rot = q;
    k_rot = k;
  } else {
    std::tie(q_rot, k_rot) = ops::rope_qk(q, k, tables.cos, tables.sin, query_scale, rope_.interleaved);
  }
  // SDPA wants [b, n, s, h_d].
  q_rot = q_rot.transpose(1, 2);
  k_rot = k_rot.transpose(1, 2);
  auto v_t = v.transpose(1, 2);

  if (probe) {
    if (b != 1 || cache) fail("attention probe: needs one sequence (batch 1) and no KV cache");
    probe->probabilities.push_back(query_probabilities(x, tables, query_scale, k_rot, probe->queries));
  }

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

// x: [b, r, h]; cos/sin: [r, h_d/2]; scale: [r] -> [b, r, n_h, h_d]
torch::Tensor LlamaAttentionImpl::rotated_queries(const torch::Tensor& x, const torch::Tensor& cos,
                                                  const torch::Tensor& sin,
                                                  const std::optional<torch::Tensor>& scale) {
  const auto q = q_proj(x).view({x.size(0), x.size(1), num_heads_, head_dim_});
  return ops::rope(q, cos, sin, scale, rope_.interleaved);
}

// x: [1, s, h]; tables.cos/sin: [s, h_d/2]; scale: [s]; k_rot: [1, n_kv, s, h_d] -> [n_h, queries.size(), s]
torch::Tensor LlamaAttentionImpl::query_probabilities(const torch::Tensor& x, const rope::RopeTables& tables,
                                                      const std::optional<torch::Tensor>& scale,
                                                      const torch::Tensor& k_rot, const std::vector<int64_t>& queries) {
  const int64_t s = x.size(1);
  // GQA: query head i reads key head i / (n_h / n_kv), as SDPA's enable_gqa does.
  const auto keys = k_rot[0].transpose(0, 1).repeat_interleave(num_heads_ / num_kv_heads_, /*dim=*/1)
                        .permute({1, 2, 0})
                        .to(torch::kFloat32);  // [n_h, h_d, s]
  auto out = torch::zeros({num_heads_, static_cast<int64_t>(queries.size()), s},
                          k_rot.options().dtype(torch::kFloat32));
  for (size_t r = 0; r < queries.size(); ++r) {
    const int64_t i = queries[r];
    if (i < 0 || i >= s) fail("attention probe: query {} outside the sequence of {} tokens", i, s);
    // Query i's row goes through the same projection and rotation alone (as the probe always did:
    // the entropies of a ctxext ablation stay bit-identical; projecting all rows at once agrees to
    // float32 rounding). It sees keys 0..i (causal), at SDPA's scale 1/sqrt(h_d).
    std::optional<torch::Tensor> row_scale;
    if (scale) row_scale = scale->slice(0, i, i + 1);
    const auto q = rotated_queries(x.slice(1, i, i + 1), tables.cos.slice(0, i, i + 1), tables.sin.slice(0, i, i + 1),
                                   row_scale)[0][0]
                       .to(torch::kFloat32)
                       .unsqueeze(1);  // [n_h, 1, h_d]
    const auto scores = torch::bmm(q, keys.slice(2, 0, i + 1)).squeeze(1) /
                        std::sqrt(static_cast<double>(head_dim_));  // [n_h, i + 1]
    out.select(1, static_cast<int64_t>(r)).slice(1, 0, i + 1).copy_(torch::softmax(scores, -1));
  }
  return out;
}

}  // namespace ctxext::model
