// Attention entropy of the last query over its context, per layer and head, for any model and RoPE
// method: one forward pass of the model asks every layer for the last query's attention
// probabilities (model/attention_probe.h), so the probe reads the attention the model applies.
// Entropy H = -sum_j p_j ln p_j in nats; a uniform distribution over n keys gives ln n, so entropy
// growing with length is attention spreading out.
#pragma once
#include <torch/types.h>

#include <cstdint>
#include <vector>

#include "model/llama_model.h"

namespace ctxext::eval {

// p: [..., s] probabilities -> [...] float64 entropy in nats (0 ln 0 = 0).
torch::Tensor entropy_nats(const torch::Tensor& p);

struct EntropyProbe {
  int64_t length = 0;
  int64_t samples = 1;                        // sequences the entropies are averaged over
  std::vector<std::vector<double>> per_head;  // [layer][head] nats
  std::vector<double> per_layer;              // mean over heads
  torch::Tensor final_hidden;                 // [1, s, h]: the model's output hidden states (checks)
};

// input_ids: [s] int64. Runs without autograd on the model's device, in eval mode. Fails when an
// entropy is not finite (a model with NaN or infinite weights).
EntropyProbe probe_attention_entropy(model::LlamaForCausalLMImpl& model, const torch::Tensor& input_ids);

}  // namespace ctxext::eval
