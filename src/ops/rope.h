// ctxext::rope — the one rotation op for every RoPE method (TORCH_LIBRARY op `ctxext::rope`),
// with a CPU kernel, a CUDA kernel (csrc_cuda/rope.cu) and autograd (backward = rotation by the
// negative angle, scaled the same way).
#pragma once
#include <torch/types.h>

#include <optional>

namespace ctxext::ops {

// x:     [b, s, n_h, h_d]  float32 / bfloat16 / float16 (any strides; output is contiguous)
// cos:   [s, h_d/2] float32;  sin: [s, h_d/2] float32
// scale: optional [s] float32, multiplies the rotated output (EABF query scale)
// interleaved: false = HF halves (x[i] pairs with x[i + h_d/2]); true = adjacent pairs (2i, 2i+1)
// Returns the rotated tensor in x's dtype; the math runs in float32.
torch::Tensor rope(const torch::Tensor& x, const torch::Tensor& cos, const torch::Tensor& sin,
                   const std::optional<torch::Tensor>& scale = std::nullopt, bool interleaved = false);

}  // namespace ctxext::ops
