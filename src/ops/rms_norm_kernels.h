// The kernels behind the `ctxext::rms_norm` op, shared by ops/rms_norm_cpu.cpp and
// csrc_cuda/rms_norm.cu. Kept free of fmt and torch/torch.h so nvcc can include it.
#pragma once
#include <ATen/core/Tensor.h>
#include <c10/util/Exception.h>

namespace ctxext::ops {

// Throws ctxext::Error naming the tensor and the reason for any argument the op cannot take.
// x: [..., h]; weight: [h]
void check_rms_norm_inputs(const at::Tensor& x, const at::Tensor& weight);

// Forward. Writes y = weight * cast<x dtype>(x * inv_rms) and the per-row inverse RMS.
// x: [rows, h] contiguous (any leading shape flattened to rows); weight: [h];
// y: [rows, h] contiguous, dtype promote(x, weight); inv_rms: [rows] float32 (float64 for float64 x)
void rms_norm_forward_cpu_into(const at::Tensor& x, const at::Tensor& weight, double eps, at::Tensor& y,
                               at::Tensor& inv_rms);
// Backward. grad_y: [rows, h] contiguous, y's dtype; x, weight, inv_rms as the forward's;
// grad_x: [rows, h] contiguous, x's dtype; grad_weight: [h] in opmath(y dtype) (float32 or float64),
// summed over rows (the caller casts it to weight's dtype).
void rms_norm_backward_cpu_into(const at::Tensor& grad_y, const at::Tensor& x, const at::Tensor& weight,
                                const at::Tensor& inv_rms, at::Tensor& grad_x, at::Tensor& grad_weight);
#ifdef CTXEXT_WITH_CUDA
void rms_norm_forward_cuda_into(const at::Tensor& x, const at::Tensor& weight, double eps, at::Tensor& y,
                                at::Tensor& inv_rms);
void rms_norm_backward_cuda_into(const at::Tensor& grad_y, const at::Tensor& x, const at::Tensor& weight,
                                 const at::Tensor& inv_rms, at::Tensor& grad_x, at::Tensor& grad_weight);
#endif

// Calls f(O{}) with O the C++ type of the output dtype `out` for input type T: T itself, float or
// double (promote(x, weight) is always one of these for the accepted dtypes).
template <typename T, typename F>
void with_output_type(at::ScalarType out, F&& f) {
  if (out == c10::CppTypeToScalarType<T>::value) {
    f(T{});
  } else if (out == at::kFloat) {
    f(float{});
  } else if (out == at::kDouble) {
    f(double{});
  } else {
    TORCH_INTERNAL_ASSERT(false, "ctxext::rms_norm: unexpected output dtype ", out);
  }
}

}  // namespace ctxext::ops
