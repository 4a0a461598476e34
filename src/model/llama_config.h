// LLaMA architecture hyper-parameters (HF LlamaConfig names) and the presets.
#pragma once
#include <cstdint>
#include <string>

#include "core/config.h"
#include "rope/rope_options.h"

namespace ctxext::model {

struct LlamaConfig {
  int64_t vocab_size = 32000;
  int64_t hidden_size = 4096;
  int64_t intermediate_size = 11008;
  int64_t num_hidden_layers = 32;
  int64_t num_attention_heads = 32;
  int64_t num_key_value_heads = 32;  // < num_attention_heads: GQA; 1: MQA
  int64_t head_dim = 0;              // 0: hidden_size / num_attention_heads
  int64_t max_position_embeddings = 4096;
  double rms_norm_eps = 1e-5;
  bool tie_word_embeddings = false;
  int64_t bos_token_id = 1;
  int64_t eos_token_id = 2;
  rope::RopeOptions rope;                  // rope.theta = rope_theta of the checkpoint

  int64_t resolved_head_dim() const { return head_dim > 0 ? head_dim : hidden_size / num_attention_heads; }
  int64_t num_parameters() const;
  // Throws ctxext::Error naming `origin` and the field if the shapes are inconsistent.
  void validate(const std::string& origin) const;
};

// "llama2-7b", "llama2-13b", "llama2-70b", "tiny". Unknown names throw listing the known ones.
LlamaConfig llama_preset(const std::string& name);

}  // namespace ctxext::model
