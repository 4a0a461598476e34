// LLaMA presets, parameter count and shape validation.
#include "model/llama_config.h"

#include <fmt/format.h>

#include "core/error.h"

namespace ctxext::model {

int64_t LlamaConfig::num_parameters() const {
  const int64_t d = resolved_head_dim();
  const int64_t h = hidden_size;
  const int64_t attention = h * num_attention_heads * d        // q_proj
                            + 2 * h * num_key_value_heads * d  // k_proj, v_proj
                            + num_attention_heads * d * h;     // o_proj
  const int64_t mlp = 3 * h * intermediate_size;
  const int64_t norms = 2 * h;
  const int64_t embeddings = vocab_size * h * (tie_word_embeddings ? 1 : 2);
  return embeddings + num_hidden_layers * (attention + mlp + norms) + h;
}

void LlamaConfig::validate(const std::string& origin) const {
  const auto positive = [&](const char* key, int64_t value) {
    if (value < 1) fail("{}: {} = {}: must be at least 1", origin, key, value);
  };
  positive("vocab_size", vocab_size);
  positive("hidden_size", hidden_size);
  positive("intermediate_size", intermediate_size);
  positive("num_hidden_layers", num_hidden_layers);
  positive("num_attention_heads", num_attention_heads);
  positive("num_key_value_heads", num_key_value_heads);
  positive("max_position_embeddings", max_position_embeddings);
  if (head_dim < 0) fail("{}: head_dim = {}: must be positive (or 0 for hidden_size / num_attention_heads)", origin, head_dim);
  if (head_dim == 0 && hidden_size % num_attention_heads != 0)
    fail("{}: hidden_size = {} is not divisible by num_attention_heads = {}", origin, hidden_size,
         num_attention_heads);
  if (num_attention_heads % num_key_value_heads != 0)
    fail("{}: num_attention_heads = {} is not a multiple of num_key_value_heads = {}", origin, num_attention_heads,
         num_key_value_heads);
  // The rotation pairs dimension i with i + d/2, and ntk-style bases raise to d/(d-2).
  const int64_t d = resolved_head_dim();
  if (d < 4 || d % 2 != 0) fail("{}: head dimension = {}: must be even and at least 4", origin, d);
  if (!(rms_norm_eps > 0.0)) fail("{}: rms_norm_eps = {}: must be positive", origin, rms_norm_eps);
}

LlamaConfig llama_preset(const std::string& name) {
  LlamaConfig c;  // the defaults are LLaMA-2-7B
  c.rope.theta = 10000.0;
  c.rope.original_max_position_embeddings = 4096;
  if (name == "llama2-7b") return c;
  if (name == "llama2-13b") {
    c.hidden_size = 5120;
    c.intermediate_size = 13824;
    c.num_hidden_layers = 40;
    c.num_attention_heads = c.num_key_value_heads = 40;
    return c;
  }
  if (name == "llama2-70b") {
    c.hidden_size = 8192;
    c.intermediate_size = 28672;
    c.num_hidden_layers = 80;
    c.num_attention_heads = 64;
    c.num_key_value_heads = 8;
    return c;
  }
  if (name == "tiny") {  // the embedded default: data/tokenizer.model's 4000 pieces, a short native context
    c.vocab_size = 4000;
    c.hidden_size = 256;
    c.intermediate_size = 688;
    c.num_hidden_layers = 4;
    c.num_attention_heads = c.num_key_value_heads = 8;
    c.max_position_embeddings = 256;
    c.rope.original_max_position_embeddings = 256;
    return c;
  }
  fail("unknown model preset '{}' (known: llama2-7b, llama2-13b, llama2-70b, tiny)", name);
}

}  // namespace ctxext::model
