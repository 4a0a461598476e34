#include "recipes/model_options.h"

#include <filesystem>

namespace ctxext::recipes {

ModelOptions parse_model_options(const ConfigNode& node) {
  ModelOptions o;
  o.path = node.get<std::string>("path", "");
  o.preset = node.get<std::string>("preset", "");
  if (o.path.empty() == o.preset.empty())
    node.reject(o.path.empty() ? "path" : "preset",
                "give exactly one of model.path (a local HF folder) and model.preset (a built-in shape with random "
                "weights for tests and benchmarks: llama2-7b, llama2-13b, llama2-70b, tiny)");
  if (!o.path.empty() && !std::filesystem::is_directory(o.path))
    node.reject("path", "no such folder: give a local HF folder (config.json, *.safetensors, tokenizer.model), e.g. "
                        "the HF cache's models--<org>--<name>/snapshots/<rev> folder, not a Hub id");
  if (node.has("dtype"))  // one key per choice: the weights are loaded in fp32 and cast to the precision
    fail("{}: model.dtype was removed: precision is train.precision (auto | fp32 | bf16); delete the key",
         node.where("dtype"));
  if (!o.preset.empty()) {
    model::LlamaConfig& c = o.preset_config;
    try {
      c = model::llama_preset(o.preset);
    } catch (const Error& e) {
      node.reject("preset", std::string(e.what()) + "; a preset is a built-in shape with random weights (tests, "
                                                    "benchmarks): for real weights give model.path");
    }
    constexpr int64_t kMax = int64_t(1) << 40;
    c.vocab_size = node.get_int("vocab_size", c.vocab_size, 1, kMax);
    c.hidden_size = node.get_int("hidden_size", c.hidden_size, 1, kMax);
    c.intermediate_size = node.get_int("intermediate_size", c.intermediate_size, 1, kMax);
    c.num_hidden_layers = node.get_int("num_hidden_layers", c.num_hidden_layers, 1, 100000);
    c.num_attention_heads = node.get_int("num_attention_heads", c.num_attention_heads, 1, 100000);
    c.num_key_value_heads = node.get_int("num_key_value_heads", c.num_key_value_heads, 1, 100000);
    c.max_position_embeddings = node.get_int("max_position_embeddings", c.max_position_embeddings, 1, kMax);
    c.rope.theta = node.get<double>("rope_theta", c.rope.theta);
    if (!(c.rope.theta > 1.0)) node.reject("rope_theta", "must be > 1");
    c.rope.original_max_position_embeddings = c.max_position_embeddings;
    c.validate(node.where("preset"));
  }
  node.check_no_unknown_keys();
  return o;
}

}  // namespace ctxext::recipes
