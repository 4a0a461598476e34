// A RoPE method = frequencies + scales. The rotation itself is shared (ops/rope.h).
// Adding a method: one file rope/<method>.cpp defining its frequency function, one line in
// rope/registry.cpp, one test.
#pragma once
#include <torch/types.h>

#include <string>
#include <vector>

#include "rope/rope_options.h"

namespace ctxext {

struct RopeFrequencies {
  torch::Tensor inv_freq;         // [head_dim/2] float32, computed as HF computes it
  double attention_scaling = 1.0; // multiplies cos and sin (YaRN's mscale), else 1
};

// seq_len: the longest position + 1 being processed; only dynamic_ntk depends on it.
using RopeFrequencyFn = RopeFrequencies (*)(const RopeOptions& options, int64_t head_dim, int64_t seq_len);

struct RopeMethod {
  const char* name;          // the YAML rope.type
  RopeFrequencyFn frequencies;
  bool has_query_scale;      // eabf
};

// The registry: every method by name. Unknown names throw ctxext::Error listing the known ones.
const RopeMethod& find_rope_method(const std::string& name);
std::vector<std::string> rope_method_names();

// Shorthand for find_rope_method(options.type).frequencies(...).
RopeFrequencies compute_rope_frequencies(const RopeOptions& options, int64_t head_dim, int64_t seq_len);

}  // namespace ctxext
