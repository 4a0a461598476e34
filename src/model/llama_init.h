// Random initialisation of a LLaMA model as HF's _init_weights does it: every Linear and the
// embedding ~ normal(0, std), RMSNorm weights = 1. Seeded with its own generator, so the global
// RNG state neither affects nor is affected by it.
#pragma once
#include <cstdint>

#include "model/llama_model.h"

namespace ctxext::model {

// std: HF's initializer_range (0.02 for LLaMA).
void init_llama_weights(LlamaForCausalLMImpl& model, uint64_t seed, double std = 0.02);

// A fresh model for `config` with init_llama_weights, in `dtype`.
LlamaForCausalLM make_random_llama(const LlamaConfig& config, uint64_t seed, torch::Dtype dtype = torch::kFloat32,
                                   double std = 0.02);

}  // namespace ctxext::model
