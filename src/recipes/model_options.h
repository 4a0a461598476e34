// The YAML `model:` section: where the weights come from. The dtype they compute in is train.precision
// (model.dtype was removed: it was parsed and never used).
//   model:
//     path: /models/Llama-2-7b-chat-hf   # an HF folder, or
//     preset: tiny                      # random weights of a preset shape (tests, benchmarks)
//     # preset only, each optional: vocab_size, hidden_size, intermediate_size,
//     # num_hidden_layers, num_attention_heads, num_key_value_heads, max_position_embeddings, rope_theta
#pragma once
#include <optional>
#include <string>

#include "core/config.h"
#include "model/llama_config.h"

namespace ctxext::recipes {

struct ModelOptions {
  std::string path;               // HF folder; empty when preset is used
  std::string preset;             // empty when path is used
  model::LlamaConfig preset_config;      // the preset with its overrides (preset only)
};

ModelOptions parse_model_options(const ConfigNode& node);

}  // namespace ctxext::recipes
