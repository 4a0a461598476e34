// ctxext::rope — the one rotation op for every RoPE method (TORCH_LIBRARY op `ctxext::rope`),
// with a CPU kernel, a CUDA kernel (csrc_cuda/rope.cu) and autograd (backward = rotation by the
// negative angle, scaled the same way). `ctxext::rope_qk` rotates an attention layer's q and k in
// one kernel launch (one parallel loop on CPU), `ctxext::rope_qk_` does it in place for inference.
#pragma once
#include <torch/types.h>

#include <optional>
#include <utility>

namespace ctxext::ops {

// x:     [b, s, n_h, h_d]  float32 / bfloat16 / float16 (any strides; output is contiguous)
// cos:   [s, h_d/2] float32;  sin: [s, h_d/2] float32
// scale: optional [s] float32, multiplies the rotated output (EABF query scale)
// interleaved: false = HF halves (x[i] pairs with x[i + h_d/2]); true = adjacent pairs (2i, 2i+1)
// Returns the rotated tensor in x's dtype; the math runs in float32.
torch::Tensor rope(const torch::Tensor& x, const torch::Tensor& cos, const torch::Tensor& sin,
                   const std::optional<torch::Tensor>& scale = std::nullopt, bool interleaved = false);

// q: [b, s, n_q, h_d]; k: [b, s, n_kv, h_d] (n_kv may differ from n_q: GQA), same dtype and device
// cos, sin: [s, h_d/2] float32;  q_scale: optional [s] float32, multiplies q's rotation only
// Returns (q_rot, k_rot), contiguous, bitwise equal to rope(q, .., q_scale) and rope(k, ..) but in one
// launch; autograd for both outputs in one backward launch.
std::pair<torch::Tensor, torch::Tensor> rope_qk(const torch::Tensor& q, const torch::Tensor& k,
                                                const torch::Tensor& cos, const torch::Tensor& sin,
                                                const std::optional<torch::Tensor>& q_scale = std::nullopt,
                                                bool interleaved = false);

// rope_qk written into q and k themselves (no allocation). q and k must be contiguous and must not
// require grad (the inference path: under torch::NoGradGuard / InferenceMode); else ctxext::Error.
void rope_qk_(torch::Tensor& q, torch::Tensor& k, const torch::Tensor& cos, const torch::Tensor& sin,
              const std::optional<torch::Tensor>& q_scale = std::nullopt, bool interleaved = false);

}  // namespace ctxext::ops
