#include "model/hf_config.h"


#include "core/error.h"
#include "core/dtype_names.h"
#include "core/text_file.h"
#include "io/atomic_folder.h"
#include "io/strict_json.h"
#include "model/hf_rope.h"
#include "model/json_fields.h"

namespace ctxext::model {

LlamaConfig read_hf_config(const std::filesystem::path& file) {
  return parse_hf_config(io::parse_strict_json(read_text_file(file, "an HF model config (is this an HF model folder?)"),
                                          file.string()),
                         file.string());
}

LlamaConfig parse_hf_config(const nlohmann::json& json, const std::string& origin) {
  const JsonFields f(json, origin);
  if (f.has("model_type") && f.string("model_type") != "llama")
    f.reject("model_type", "ctxext reads LLaMA checkpoints (model_type \"llama\")");
  if (f.has("hidden_act") && f.string("hidden_act") != "silu")
    f.reject("hidden_act", "LLaMA's MLP is SwiGLU (\"silu\")");
  for (const char* key : {"attention_bias", "mlp_bias"})
    if (f.boolean(key, false)) f.reject(key, "LLaMA projections have no bias");

  LlamaConfig c;
  c.vocab_size = f.integer("vocab_size");
  c.hidden_size = f.integer("hidden_size");
  c.intermediate_size = f.integer("intermediate_size");
  c.num_hidden_layers = f.integer("num_hidden_layers");
  c.num_attention_heads = f.integer("num_attention_heads");
  // Defaults below are HF LlamaConfig's.
  c.num_key_value_heads = f.integer("num_key_value_heads", c.num_attention_heads);
  c.head_dim = f.integer("head_dim", 0);
  if (json.contains("max_position_embeddings") && json.at("max_position_embeddings").is_null())
    f.reject("max_position_embeddings", "must be the context length the model was trained for (not guessed)");
  c.max_position_embeddings = f.integer("max_position_embeddings", 2048);
  c.rms_norm_eps = f.number("rms_norm_eps", 1e-6);
  c.tie_word_embeddings = f.boolean("tie_word_embeddings", false);
  c.bos_token_id = f.integer("bos_token_id", c.bos_token_id);
  if (f.has("eos_token_id")) {
    const auto& eos = f.raw("eos_token_id");
    // Newer configs list several end tokens; the first is the one ctxext appends.
    if (eos.is_array() && !eos.empty() && eos.front().is_number_integer()) {
      c.eos_token_id = eos.front().get<int64_t>();
    } else {
      c.eos_token_id = f.integer("eos_token_id");
    }
  }
  c.validate(origin);
  c.rope = read_hf_rope(f, c.max_position_embeddings, c.resolved_head_dim());
  return c;
}

nlohmann::json hf_config_json(const LlamaConfig& c, torch::Dtype dtype) {
  const auto rope = hf_rope_parameters(c.rope, c.resolved_head_dim());
  const std::string dtype_text = dtype_name(dtype);
  nlohmann::json j = {
      {"architectures", {"LlamaForCausalLM"}},
      {"model_type", "llama"},
      {"vocab_size", c.vocab_size},
      {"hidden_size", c.hidden_size},
      {"intermediate_size", c.intermediate_size},
      {"num_hidden_layers", c.num_hidden_layers},
      {"num_attention_heads", c.num_attention_heads},
      {"num_key_value_heads", c.num_key_value_heads},
      {"head_dim", c.resolved_head_dim()},
      {"hidden_act", "silu"},
      {"attention_bias", false},
      {"mlp_bias", false},
      {"rms_norm_eps", c.rms_norm_eps},
      {"initializer_range", 0.02},
      {"tie_word_embeddings", c.tie_word_embeddings},
      {"bos_token_id", c.bos_token_id},
      {"eos_token_id", c.eos_token_id},
      {"use_cache", true},
      {"dtype", dtype_text},
      {"torch_dtype", dtype_text},  // the name transformers 4.x reads
      {"max_position_embeddings", hf_max_position_embeddings(c.rope)},
      // transformers 5 reads rope_parameters; 4.x, vLLM and llama.cpp's converter read rope_theta +
      // rope_scaling. Both carry the same description (v5 prefers rope_scaling when both are set).
      {"rope_parameters", rope},
      {"rope_theta", rope["rope_theta"]},
      {"ctxext_rope", ctxext_rope_json(c.rope)},
  };
  if (rope["rope_type"] == "default") {
    j["rope_scaling"] = nullptr;
  } else {
    auto scaling = rope;
    scaling.erase("rope_theta");
    scaling["type"] = rope["rope_type"];  // the pre-4.43 key name
    j["rope_scaling"] = scaling;
  }
  return j;
}

void write_hf_config(const std::filesystem::path& file, const LlamaConfig& config, torch::Dtype dtype) {
  io::write_file_atomic(file, hf_config_json(config, dtype).dump(2) + "\n");
}

}  // namespace ctxext::model
