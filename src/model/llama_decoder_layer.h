// One LLaMA block: x + attn(norm(x)), then x + mlp(norm(x)) (pre-norm residuals).
#pragma once
#include <torch/nn/module.h>
#include <torch/nn/pimpl.h>

#include "model/llama_attention.h"
#include "model/llama_mlp.h"
#include "model/rms_norm.h"

namespace ctxext::model {

class LlamaDecoderLayerImpl : public torch::nn::Module {
 public:
  LlamaDecoderLayerImpl(const LlamaConfig& config, int64_t layer_index);

  // x: [b, s, h]; positions: [s]; tables: cos/sin [s, h_d/2]; probe: see LlamaAttention. Returns [b, s, h].
  torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& positions, const rope::RopeTables& tables,
                        KvCache* cache = nullptr, AttentionProbe* probe = nullptr);

  LlamaAttention self_attn{nullptr};
  LlamaMLP mlp{nullptr};
  RMSNorm input_layernorm{nullptr}, post_attention_layernorm{nullptr};
};
TORCH_MODULE(LlamaDecoderLayer);

}  // namespace ctxext::model
