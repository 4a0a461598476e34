// LLaMA self-attention: q/k/v/o projections without bias, grouped-query attention through
// num_key_value_heads (MQA at 1), RoPE through ctxext::ops::rope on q and k, the EABF query scale
// fused into q's rotation, causal scaled-dot-product attention, optional KV cache, optional probe of
// the attention probabilities of chosen queries (model/attention_probe.h).
#pragma once
#include <torch/nn/module.h>
#include <torch/nn/modules/linear.h>
#include <torch/nn/pimpl.h>

#include <optional>
#include <vector>

#include "model/attention_probe.h"
#include "model/kv_cache.h"
#include "model/llama_config.h"
#include "rope/rope_tables.h"

namespace ctxext::model {

class LlamaAttentionImpl : public torch::nn::Module {
 public:
  LlamaAttentionImpl(const LlamaConfig& config, int64_t layer_index);

  // x: [b, s, h]; positions: [s] int64 absolute positions of x's tokens;
  // tables: cos/sin [s, h_d/2] for those positions; cache: keys/values of earlier positions (or null);
  // probe: appends this layer's probabilities of probe->queries (b = 1, no cache). Returns [b, s, h].
  torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& positions, const rope::RopeTables& tables,
                        KvCache* cache = nullptr, AttentionProbe* probe = nullptr);

  torch::nn::Linear q_proj{nullptr}, k_proj{nullptr}, v_proj{nullptr}, o_proj{nullptr};

 private:
  // x: [b, r, h] rows of the input; cos/sin: [r, h_d/2] and scale: [r] (EABF) for those rows ->
  // q_proj, then RoPE with the query scale fused: [b, r, n_h, h_d].
  torch::Tensor rotated_queries(const torch::Tensor& x, const torch::Tensor& cos, const torch::Tensor& sin,
                                const std::optional<torch::Tensor>& scale);
  // x: [1, s, h]; k_rot: [1, n_kv, s, h_d] -> [n_h, queries.size(), s] float32 (AttentionProbe)
  torch::Tensor query_probabilities(const torch::Tensor& x, const rope::RopeTables& tables,
                                    const std::optional<torch::Tensor>& scale, const torch::Tensor& k_rot,
                                    const std::vector<int64_t>& queries);

  rope::RopeOptions rope_;
  int64_t layer_index_;
  int64_t num_heads_;
  int64_t num_kv_heads_;
  int64_t head_dim_;
};
TORCH_MODULE(LlamaAttention);

}  // namespace ctxext::model
