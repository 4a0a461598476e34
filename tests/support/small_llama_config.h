// The small LLaMA shapes the tests build: 2 layers, 4 attention heads, plain RoPE whose original
// context is the model's max_position_embeddings. Each test picks the sizes it needs.
#pragma once
#include <cstdint>

#include "model/llama_config.h"

namespace ctxext::testing {

inline model::LlamaConfig small_llama_config(int64_t vocab_size, int64_t hidden_size, int64_t intermediate_size,
                                             int64_t num_key_value_heads, int64_t max_position_embeddings) {
  model::LlamaConfig c;
  c.vocab_size = vocab_size;
  c.hidden_size = hidden_size;
  c.intermediate_size = intermediate_size;
  c.num_hidden_layers = 2;
  c.num_attention_heads = 4;
  c.num_key_value_heads = num_key_value_heads;
  c.max_position_embeddings = max_position_embeddings;
  c.rope.original_max_position_embeddings = max_position_embeddings;
  return c;
}

}  // namespace ctxext::testing
