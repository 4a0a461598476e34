// Shared by the eval tests: a small random LLaMA (vocab of data/tokenizer.model) per RoPE method,
// in memory or exported as an HF folder for the transformers oracle.
#pragma once
#include <torch/types.h>

#include <filesystem>
#include <string>
#include <vector>

#include "data/tokenizer.h"
#include "model/llama_config.h"
#include "model/llama_model.h"

namespace ctxext::testing {

// vocab 4000, hidden 64, 4 heads (2 kv), 2 layers, L0 = max_position_embeddings = 64; `method`
// with factor 2 (abf/eabf: theta 500000; eabf: c = 64, skip_layers 1).
model::LlamaConfig eval_model_config(const std::string& method);

// A seeded random model (std 0.15, so attention is far from uniform).
model::LlamaForCausalLM eval_model(const std::string& method, uint64_t seed = 11);

// Exports eval_model(method, seed) to `folder`.
void write_eval_model(const std::filesystem::path& folder, const std::string& method, uint64_t seed = 11);

// data/tokenizer.model, loaded once.
const data::Tokenizer& embedded_tokenizer();

// `n` seeded token ids in [3, 4000).
std::vector<int64_t> eval_tokens(int64_t n, uint64_t seed = 5);

}  // namespace ctxext::testing
