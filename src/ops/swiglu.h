// ctxext::swiglu — the LLaMA MLP activation silu(gate) * up as one op (TORCH_LIBRARY op
// `ctxext::swiglu`, backward `ctxext::swiglu_backward`), with a CPU kernel (ops/swiglu_cpu.cpp),
// a CUDA kernel (csrc_cuda/swiglu.cu) and autograd. The forward allocates only its output; the
// autograd node saves gate and up (the inputs, no intermediates) and the backward recomputes
// sigmoid(gate), writing grad_gate and grad_up in one pass.
#pragma once
#include <torch/types.h>

#include <utility>

namespace ctxext::ops {

// gate, up: same shape (any rank, any strides), same dtype (float32 / float64 / bfloat16 /
// float16), same device. Returns silu(gate) * up = gate * sigmoid(gate) * up, contiguous, in the
// inputs' dtype; the math runs in float32 (float64 for float64 inputs) with one final rounding.
torch::Tensor swiglu(const torch::Tensor& gate, const torch::Tensor& up);

// The backward alone (no autograd): grad_out, gate, up of one shape ->
// (grad_gate, grad_up) = (grad_out * up * s * (1 + gate * (1 - s)), grad_out * gate * s), s = sigmoid(gate).
std::pair<torch::Tensor, torch::Tensor> swiglu_backward(const torch::Tensor& grad_out, const torch::Tensor& gate,
                                                        const torch::Tensor& up);

}  // namespace ctxext::ops
