// cos/sin tables and the EABF query scale from positions.
#include "rope/rope_tables.h"

#include <torch/torch.h>

#include "core/error.h"

namespace ctxext::rope {

// positions: [s] int64 -> cos, sin: [s, head_dim/2] float32
RopeTables compute_rope_tables(const RopeOptions& options, int64_t head_dim, const torch::Tensor& positions,
                               int64_t seq_len) {
  if (positions.dim() != 1 || positions.scalar_type() != torch::kInt64)
    fail("RoPE positions: expected a 1-d int64 tensor, got {}-d {}", positions.dim(),
         std::string(c10::toString(positions.scalar_type())));
  const auto freqs = compute_rope_frequencies(options, head_dim, seq_len);
  // HF LlamaRotaryEmbedding.forward: position_ids.float() * inv_freq, then cos/sin * attention_scaling.
  const auto angles = positions.to(torch::kFloat32).unsqueeze(-1) * freqs.inv_freq.to(positions.device());
  return {angles.cos() * freqs.attention_scaling, angles.sin() * freqs.attention_scaling};
}

// positions: [s] int64 -> [s] float32, or undefined
torch::Tensor compute_query_scale(const RopeOptions& options, const torch::Tensor& positions, int64_t layer_index) {
  const auto& method = find_rope_method(options.type);
  return method.query_scale ? method.query_scale(options, positions, layer_index) : torch::Tensor();
}

}  // namespace ctxext::rope
