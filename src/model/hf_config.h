// HF config.json <-> LlamaConfig. Reads what transformers 4.x and 5.x write (rope_scaling with
// `type` or `rope_type` + rope_theta, or rope_parameters); writes a file stock transformers 5
// loads with the same frequencies, plus the full ctxext RoPE options under "ctxext_rope".
#pragma once
#include <nlohmann/json.hpp>
#include <torch/types.h>

#include <filesystem>
#include <string>

#include "model/llama_config.h"

namespace ctxext::model {

// Errors name the file and the key: a missing required field, a wrong type, inconsistent head
// counts, an unknown RoPE type, a non-LLaMA architecture.
LlamaConfig read_hf_config(const std::filesystem::path& file);
LlamaConfig parse_hf_config(const nlohmann::json& json, const std::string& origin);

// dtype: the dtype the tensors are written in ("dtype" / "torch_dtype").
nlohmann::json hf_config_json(const LlamaConfig& config, torch::Dtype dtype);
void write_hf_config(const std::filesystem::path& file, const LlamaConfig& config, torch::Dtype dtype);

}  // namespace ctxext::model
