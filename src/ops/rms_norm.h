// ctxext::rms_norm — fused RMSNorm (TORCH_LIBRARY op `ctxext::rms_norm`) with a CPU kernel, a CUDA
// kernel (csrc_cuda/rms_norm.cu) and autograd. Same arithmetic as HF LlamaRMSNorm (and
// model/rms_norm.cpp before it called this op): statistics in float32 (float64 for float64 x),
//   y = weight * (x * rsqrt(mean(x^2) + eps)).to(x.dtype)
// so the result dtype is promote(x.dtype, weight.dtype). One departure: float64 x keeps float64
// statistics (the composition and HF drop to float32 there).
#pragma once
#include <torch/types.h>

namespace ctxext::ops {

// x: [..., h] float32 / float64 / bfloat16 / float16 (any strides); weight: [h] (same dtype set)
// Returns [..., h], contiguous, dtype promote(x, weight). Differentiable in x and weight.
torch::Tensor rms_norm(const torch::Tensor& x, const torch::Tensor& weight, double eps);

}  // namespace ctxext::ops
