#include "model/llama_decoder_layer.h"

#include <torch/torch.h>

namespace ctxext::model {

LlamaDecoderLayerImpl::LlamaDecoderLayerImpl(const LlamaConfig& config, int64_t layer_index) {
  self_attn = register_module("self_attn", LlamaAttention(config, layer_index));
  mlp = register_module("mlp", LlamaMLP(config.hidden_size, config.intermediate_size));
  input_layernorm = register_module("input_layernorm", RMSNorm(config.hidden_size, config.rms_norm_eps));
  post_attention_layernorm =
      register_module("post_attention_layernorm", RMSNorm(config.hidden_size, config.rms_norm_eps));
}

// x: [b, s, h]; positions: [s]; tables.cos/sin: [s, h_d/2]
torch::Tensor LlamaDecoderLayerImpl::forward(const torch::Tensor& x, const torch::Tensor& positions,
                                             const rope::RopeTables& tables, KvCache* cache, AttentionProbe* probe) {
  const auto h = x + self_attn(input_layernorm(x), positions, tables, cache, probe);
  return h + mlp(post_attention_layernorm(h));
}

}  // namespace ctxext::model
