// The warning `export` and `train` give when the exported RoPE method is one stock HF loaders do
// not compute exactly (RopeMethod::hf.fidelity == HfFidelity::frequencies_only, e.g. eabf).
#pragma once
#include "model/llama_config.h"

namespace ctxext::model {

// Logs one warning naming the method and the rope_theta stock loaders use; nothing for a method
// stock loaders compute exactly.
void warn_if_hf_frequencies_only(const LlamaConfig& config);

}  // namespace ctxext::model
