// Per-position tables the attention layers consume: cos/sin of the rotation angles and the
// EABF query scale.
#pragma once
#include <torch/types.h>

#include "rope/rope_method.h"

namespace ctxext::rope {

struct RopeTables {
  torch::Tensor cos;  // [s, head_dim/2] float32, already multiplied by attention_scaling
  torch::Tensor sin;  // [s, head_dim/2] float32, already multiplied by attention_scaling
};

// positions: [s] int64 absolute positions. Angles = positions (as float32) * inv_freq (float32),
// the same float32 arithmetic as HF so long positions keep parity. `seq_len` is what dynamic NTK
// sees (HF: max position + 1 of the call, never below L0 once extended).
RopeTables compute_rope_tables(const RopeOptions& options, int64_t head_dim, const torch::Tensor& positions,
                               int64_t seq_len);

// The method's query scale for one layer (eabf: [s] float32 = max(1, ln(pos+1)/ln(c))), or an
// undefined tensor when the method has none or the layer is below skip_layers.
torch::Tensor compute_query_scale(const RopeOptions& options, const torch::Tensor& positions, int64_t layer_index);

}  // namespace ctxext::rope
