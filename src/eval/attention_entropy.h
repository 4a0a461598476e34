// Attention entropy of the last query over its context, per layer and head, for any model and RoPE
// method, without changing the model: the probe runs the embedding and the decoder layers itself
// and, at each layer, recomputes the last query's attention from the layer's public submodules
// (input_layernorm, q_proj, k_proj, the same RoPE tables and EABF query scale, GQA head mapping,
// softmax at scale 1/sqrt(head_dim)). Entropy H = -sum_j p_j ln p_j in nats; a uniform
// distribution over n keys gives ln n, so entropy growing with length is attention spreading out.
#pragma once
#include <torch/types.h>

#include <cstdint>
#include <vector>

#include "model/llama_model.h"
#include "rope/rope_tables.h"

namespace ctxext::eval {

// layer: the decoder layer `layer_index` of a model with `config`; x: [1, s, h] its input;
// positions: [s]; tables: cos/sin [s, h_d/2]. Returns [n_h, s] float32: the attention
// probabilities of the last query (position s-1) over keys 0..s-1 for each head.
torch::Tensor last_query_attention(LlamaDecoderLayerImpl& layer, const LlamaConfig& config, int64_t layer_index,
                                   const torch::Tensor& x, const torch::Tensor& positions, const RopeTables& tables);

// p: [..., s] probabilities -> [...] float64 entropy in nats (0 ln 0 = 0).
torch::Tensor entropy_nats(const torch::Tensor& p);

struct EntropyProbe {
  int64_t length = 0;
  std::vector<std::vector<double>> per_head;  // [layer][head] nats
  std::vector<double> per_layer;              // mean over heads
  torch::Tensor final_hidden;                 // [1, s, h]: the model's output hidden states (checks)
};

// input_ids: [s] int64. Runs without autograd on the model's device.
EntropyProbe probe_attention_entropy(LlamaForCausalLMImpl& model, const torch::Tensor& input_ids);

}  // namespace ctxext::eval
