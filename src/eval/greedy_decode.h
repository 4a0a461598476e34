// Greedy decoding with a KV cache: one forward over the prompt, then one token at a time.
//
// RoPE with a cache: the cached keys keep the rotation they were computed with, and each call
// computes its tables from its own positions with seq_len = (cached + new) tokens. For every
// method but dynamic_ntk this equals one full forward over prompt + generated tokens. For
// dynamic_ntk, whose base grows with seq_len once it exceeds L0, the prompt's keys stay rotated
// with θ'(prompt length) while each new token uses θ'(its position + 1): exactly what Hugging
// Face's `dynamic_rope_update` does during generate() on a fresh model (recompute on growth), and
// different from a full forward at the final length. ctxext is stateless across calls; HF's module
// also remembers the longest length it has seen across calls, which ctxext does not imitate.
#pragma once
#include <torch/types.h>

#include <cstdint>
#include <vector>

#include "model/llama_model.h"

namespace ctxext::eval {

struct GreedyResult {
  std::vector<int64_t> tokens;  // the generated ids (stop token included when it was produced)
  torch::Tensor step_logits;    // [n_new, vocab] float32: the logits each id was chosen from (keep_logits)
};

// prompt: token ids (BOS included by the caller). Stops after max_new_tokens or at stop_id
// (-1: never). Runs on the model's device without autograd.
GreedyResult greedy_decode(model::LlamaForCausalLMImpl& model, const std::vector<int64_t>& prompt, int64_t max_new_tokens,
                           int64_t stop_id = -1, bool keep_logits = false);

}  // namespace ctxext::eval
