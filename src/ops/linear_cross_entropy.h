// ctxext::linear_cross_entropy — the LM head and the next-token cross-entropy fused (TORCH_LIBRARY
// op `ctxext::linear_cross_entropy`), with autograd. The same loss as
//   cross_entropy(linear(hidden, weight).to(float32), targets, ignore_index, reduction)
// but the logits are computed chunk by chunk over the tokens, so the [n x v] logits never exist
// whole (only one chunk's [chunk x v]), and the gradients w.r.t. hidden and weight are produced in
// the same pass (no recompute of the logits in backward). CPU and CUDA (csrc_cuda/).
#pragma once
#include <torch/types.h>

#include <cstdint>

namespace ctxext::ops {

enum class LossReduction { kSum, kMean };

// hidden: [n, h] float32 / float64 / bfloat16 / float16 (any strides); weight: [v, h], same dtype;
// targets: [n] int64, each in [0, v) or ignore_index (no loss, zero gradient). chunk: tokens per
// chunk (<= 0: all at once). Returns the loss, a scalar in float32 (float64 for float64 inputs);
// kMean divides by the number of supervised targets (NaN when there is none, as PyTorch).
// Differentiable in hidden and weight (not twice).
torch::Tensor linear_cross_entropy(const torch::Tensor& hidden, const torch::Tensor& weight,
                                   const torch::Tensor& targets, int64_t ignore_index, int64_t chunk,
                                   LossReduction reduction);

}  // namespace ctxext::ops
