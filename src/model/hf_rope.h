// RoPE options <-> the RoPE part of an HF config.json (docs/hf_interop.md).
//
// Read: the "ctxext_rope" key first (written by ctxext's export; stock loaders ignore it), else
// `rope_scaling` (legacy `type` or `rope_type`) or transformers v5's `rope_parameters`, with the
// top-level `rope_theta`. HF rope_type -> ctxext type: default -> none, linear -> pi,
// dynamic -> dynamic_ntk, yarn -> yarn, llama3 -> llama3.
// Write: the HF form stock loaders compute the same frequencies from, always complete
// (rope_type, rope_theta, factor, original_max_position_embeddings + the method's keys).
#pragma once
#include <nlohmann/json.hpp>

#include <cstdint>

#include "model/json_fields.h"
#include "rope/rope_options.h"

namespace ctxext {

// root: the whole config.json; max_position_embeddings: its value (HF's default for L0).
RopeOptions read_hf_rope(const JsonFields& root, int64_t max_position_embeddings);

// The `rope_parameters` dict stock transformers computes these frequencies from. abf/eabf become
// HF "default" with rope_theta = abf_theta (eabf's query scale has no HF equivalent); ntk becomes
// "default" with the exactly equivalent rope_theta = theta * alpha^(d/(d-2)).
// Fails for interleaved (Meta-layout) rotation, which HF checkpoints cannot express.
nlohmann::json hf_rope_parameters(const RopeOptions& rope, int64_t head_dim);

// The HF type name of hf_rope_parameters(rope)["rope_type"].
std::string hf_rope_type(const RopeOptions& rope);

// The max_position_embeddings to write: L0 * factor, except for dynamic NTK, where HF reads
// max_position_embeddings as the original context L0 the dynamic formula scales from.
int64_t hf_max_position_embeddings(const RopeOptions& rope);

// Every ctxext RoPE option, under the parse_rope_options key names (the "ctxext_rope" value).
nlohmann::json ctxext_rope_json(const RopeOptions& rope);
RopeOptions parse_ctxext_rope_json(const nlohmann::json& value, const std::string& origin);

}  // namespace ctxext
