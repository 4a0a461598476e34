// LLaMA self-attention: q/k/v/o projections without bias, grouped-query attention through
// num_key_value_heads (MQA at 1), RoPE through ctxext::ops::rope on q and k, the EABF query scale
// fused into q's rotation, causal scaled-dot-product attention, optional KV cache.
#pragma once
#include <torch/nn/module.h>
#include <torch/nn/modules/linear.h>
#include <torch/nn/pimpl.h>

#include "model/kv_cache.h"
#include "model/llama_config.h"
#include "rope/rope_tables.h"

namespace ctxext {

class LlamaAttentionImpl : public torch::nn::Module {
 public:
  LlamaAttentionImpl(const LlamaConfig& config, int64_t layer_index);

  // x: [b, s, h]; positions: [s] int64 absolute positions of x's tokens;
  // tables: cos/sin [s, h_d/2] for those positions; cache: keys/values of earlier positions (or null).
  // Returns [b, s, h].
  torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& positions, const RopeTables& tables,
                        KvCache* cache = nullptr);

  torch::nn::Linear q_proj{nullptr}, k_proj{nullptr}, v_proj{nullptr}, o_proj{nullptr};

 private:
  RopeOptions rope_;
  int64_t layer_index_;
  int64_t num_heads_;
  int64_t num_kv_heads_;
  int64_t head_dim_;
};
TORCH_MODULE(LlamaAttention);

}  // namespace ctxext
