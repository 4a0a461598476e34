// Perplexity of a causal LM on one token sequence: mean next-token negative log-likelihood.
#pragma once
#include <torch/types.h>

#include <cstdint>

#include "model/llama_model.h"

namespace ctxext {

struct PerplexityResult {
  int64_t tokens = 0;  // predicted tokens: seq_len - 1
  double nll = 0.0;    // mean NLL in nats
  double ppl = 0.0;    // exp(nll)
};

// tokens: [n] int64 with n >= seq_len >= 2; scores the first seq_len tokens in one forward pass
// (full causal attention over seq_len), projecting to the vocabulary `chunk` positions at a time
// so the float32 logits never exceed [chunk, vocab]. Runs on the model's device without autograd.
PerplexityResult perplexity(LlamaForCausalLMImpl& model, const torch::Tensor& tokens, int64_t seq_len,
                            int64_t chunk = 1024);

}  // namespace ctxext
