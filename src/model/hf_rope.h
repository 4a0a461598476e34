// RoPE options <-> the RoPE part of an HF config.json (docs/hf_interop.md).
//
// Driven by the registry (rope/rope_method.h: RopeMethod::hf and each key's hf_name).
// Read: `rope_scaling` (legacy `type` or `rope_type`) or transformers v5's `rope_parameters`, with the
// top-level `rope_theta`, always checked; the HF type is read as the method whose RopeHfForm::reads
// names it (an unknown type is an error). Then the "ctxext_rope" key, when present, wins (written
// by ctxext's export; stock loaders ignore it).
// Write: the HF form stock loaders compute the same frequencies from, always complete
// (rope_type, rope_theta, factor, original_max_position_embeddings + the method's HF keys).
#pragma once
#include <nlohmann/json.hpp>

#include <cstdint>

#include "model/json_fields.h"
#include "rope/rope_options.h"

namespace ctxext::model {

// root: the whole config.json; max_position_embeddings: its value (HF's default for L0); head_dim:
// the model's (per-dimension lists such as longrope's must have head_dim/2 values).
rope::RopeOptions read_hf_rope(const JsonFields& root, int64_t max_position_embeddings, int64_t head_dim);

// The `rope_parameters` dict stock transformers computes these frequencies from (RopeMethod::hf:
// e.g. abf/eabf -> "default" with rope_theta = abf_theta, ntk -> "default" with the equivalent
// base, ntk_by_parts -> "yarn" with attention_factor 1). Where the method's HfFidelity is
// frequencies_only (eabf's query scale) only "ctxext_rope" carries the rest.
// Fails for interleaved (Meta-layout) rotation, which HF checkpoints cannot express.
nlohmann::json hf_rope_parameters(const rope::RopeOptions& rope, int64_t head_dim);

// The HF type name of hf_rope_parameters(rope)["rope_type"].
std::string hf_rope_type(const rope::RopeOptions& rope);

// The max_position_embeddings to write: L0 * factor, except for dynamic NTK, where HF reads
// max_position_embeddings as the original context L0 the dynamic formula scales from.
int64_t hf_max_position_embeddings(const rope::RopeOptions& rope);

// The active method's keys (RopeMethod::all_keys) under the parse_rope_options names, plus `type`:
// the "ctxext_rope" value. eabf_context is written resolved (0 -> L0).
nlohmann::json ctxext_rope_json(const rope::RopeOptions& rope);
rope::RopeOptions parse_ctxext_rope_json(const nlohmann::json& value, const std::string& origin);

}  // namespace ctxext::model
