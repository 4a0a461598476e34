// The kernels behind the `ctxext::swiglu` op, shared by ops/swiglu_cpu.cpp and csrc_cuda/swiglu.cu.
// Kept free of fmt and torch/torch.h so nvcc can include it.
#pragma once
#include <ATen/core/Tensor.h>

namespace ctxext::ops {

// Throws ctxext::Error naming the tensor and the reason for any argument the op cannot take:
// undefined, a dtype other than float32/float64/bfloat16/float16, a shape, dtype or device that
// differs from gate's. `what` names the op in the message ("ctxext::swiglu", ...).
void check_swiglu_inputs(const char* what, const at::Tensor& gate, const at::Tensor& up,
                         const at::Tensor* grad_out = nullptr);

// out = silu(gate) * up. gate, up: any strides (made contiguous); out: contiguous, gate's shape
// and dtype. Math in float32 (float64 for float64).
void swiglu_cpu_into(const at::Tensor& gate, const at::Tensor& up, at::Tensor& out);
// grad_gate, grad_up: contiguous, gate's shape and dtype; every element written.
void swiglu_backward_cpu_into(const at::Tensor& grad_out, const at::Tensor& gate, const at::Tensor& up,
                              at::Tensor& grad_gate, at::Tensor& grad_up);
#ifdef CTXEXT_WITH_CUDA
void swiglu_cuda_into(const at::Tensor& gate, const at::Tensor& up, at::Tensor& out);
void swiglu_backward_cuda_into(const at::Tensor& grad_out, const at::Tensor& gate, const at::Tensor& up,
                               at::Tensor& grad_gate, at::Tensor& grad_up);
#endif

}  // namespace ctxext::ops
