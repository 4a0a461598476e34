// The kernels behind the `ctxext::rope` op, shared by ops/rope_cpu.cpp and csrc_cuda/rope.cu.
// Kept free of fmt and torch/torch.h so nvcc can include it.
#pragma once
#include <ATen/core/Tensor.h>

#include <optional>

namespace ctxext::ops {

// Throws ctxext::Error naming the tensor and the reason for any argument the op cannot take.
// x: [b, s, n_h, h_d]; cos, sin: [s, h_d/2]; scale: optional [s]
void check_rope_inputs(const at::Tensor& x, const at::Tensor& cos, const at::Tensor& sin,
                       const std::optional<at::Tensor>& scale);

// Writes the rotation of x into `out` (contiguous, x's shape and dtype). `inverse` rotates by the
// negative angle (the backward). The math runs in float32, or float64 for float64 x.
// x: [b, s, n_h, h_d]; cos, sin: [s, h_d/2]; scale: optional [s]; out: [b, s, n_h, h_d]
void rope_cpu_into(const at::Tensor& x, const at::Tensor& cos, const at::Tensor& sin,
                   const std::optional<at::Tensor>& scale, bool interleaved, bool inverse, at::Tensor& out);
#ifdef CTXEXT_WITH_CUDA
void rope_cuda_into(const at::Tensor& x, const at::Tensor& cos, const at::Tensor& sin,
                    const std::optional<at::Tensor>& scale, bool interleaved, bool inverse, at::Tensor& out);
#endif

}  // namespace ctxext::ops
