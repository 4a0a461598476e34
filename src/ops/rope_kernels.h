// The kernels behind the `ctxext::rope` and `ctxext::rope_qk` ops, shared by ops/rope_cpu.cpp and
// csrc_cuda/rope.cu. Kept free of fmt and torch/torch.h so nvcc can include it.
#pragma once
#include <ATen/core/Tensor.h>
#include <ATen/ops/empty.h>

#include <optional>
#include <tuple>

namespace ctxext::ops {

// Throws ctxext::Error naming the tensor and the reason for any argument the op cannot take.
// x: [b, s, n_h, h_d]; cos, sin: [s, h_d/2]; scale: optional [s]
void check_rope_inputs(const at::Tensor& x, const at::Tensor& cos, const at::Tensor& sin,
                       const std::optional<at::Tensor>& scale);

// The same for the fused pair: q and k share b, s, h_d, dtype and device; their head counts may
// differ (GQA). `op` names the op in the message ("ctxext::rope_qk" or "ctxext::rope_qk_").
// q: [b, s, n_q, h_d]; k: [b, s, n_kv, h_d]; cos, sin: [s, h_d/2]; q_scale: optional [s]
void check_rope_qk_inputs(const char* op, const at::Tensor& q, const at::Tensor& k, const at::Tensor& cos,
                          const at::Tensor& sin, const std::optional<at::Tensor>& q_scale);

// The in-place variant's extra conditions: q and k contiguous, distinct, and not requiring grad.
void check_rope_qk_inplace(const at::Tensor& q, const at::Tensor& k);

// Writes the rotation of x into `out` (contiguous, x's shape and dtype). `inverse` rotates by the
// negative angle (the backward). The math runs in float32, or float64 for float64 x.
// x: [b, s, n_h, h_d]; cos, sin: [s, h_d/2]; scale: optional [s]; out: [b, s, n_h, h_d]
void rope_cpu_into(const at::Tensor& x, const at::Tensor& cos, const at::Tensor& sin,
                   const std::optional<at::Tensor>& scale, bool interleaved, bool inverse, at::Tensor& out);

// q and k in one parallel loop (CPU) / one launch (CUDA); q_scale multiplies q's rows only. Every
// row is computed exactly as rope_*_into computes it, so the results are bitwise those of two calls.
// `q_out` may be q itself and `k_out` k itself when they are contiguous (the in-place variant).
// q, q_out: [b, s, n_q, h_d]; k, k_out: [b, s, n_kv, h_d]; cos, sin: [s, h_d/2]; q_scale: optional [s]
void rope_qk_cpu_into(const at::Tensor& q, const at::Tensor& k, const at::Tensor& cos, const at::Tensor& sin,
                      const std::optional<at::Tensor>& q_scale, bool interleaved, bool inverse, at::Tensor& q_out,
                      at::Tensor& k_out);
#ifdef CTXEXT_WITH_CUDA
void rope_cuda_into(const at::Tensor& x, const at::Tensor& cos, const at::Tensor& sin,
                    const std::optional<at::Tensor>& scale, bool interleaved, bool inverse, at::Tensor& out);
void rope_qk_cuda_into(const at::Tensor& q, const at::Tensor& k, const at::Tensor& cos, const at::Tensor& sin,
                       const std::optional<at::Tensor>& q_scale, bool interleaved, bool inverse, at::Tensor& q_out,
                       at::Tensor& k_out);
#endif

// ---- the registered kernels: check, allocate, rotate with `Into` (the CPU or the CUDA one) ----

inline at::Tensor contiguous_like(const at::Tensor& x) {
  return at::empty(x.sizes(), x.options().memory_format(at::MemoryFormat::Contiguous));
}

template <auto Into>
at::Tensor rope_kernel(const at::Tensor& x, const at::Tensor& cos, const at::Tensor& sin,
                       const std::optional<at::Tensor>& scale, bool interleaved, bool inverse) {
  check_rope_inputs(x, cos, sin, scale);
  auto out = contiguous_like(x);
  Into(x, cos, sin, scale, interleaved, inverse, out);
  return out;
}

template <auto QkInto>
std::tuple<at::Tensor, at::Tensor> rope_qk_kernel(const at::Tensor& q, const at::Tensor& k, const at::Tensor& cos,
                                                  const at::Tensor& sin, const std::optional<at::Tensor>& q_scale,
                                                  bool interleaved, bool inverse) {
  check_rope_qk_inputs("ctxext::rope_qk", q, k, cos, sin, q_scale);
  auto q_out = contiguous_like(q);
  auto k_out = contiguous_like(k);
  QkInto(q, k, cos, sin, q_scale, interleaved, inverse, q_out, k_out);
  return {q_out, k_out};
}

template <auto QkInto>
void rope_qk_inplace_kernel(at::Tensor& q, at::Tensor& k, const at::Tensor& cos, const at::Tensor& sin,
                            const std::optional<at::Tensor>& q_scale, bool interleaved) {
  check_rope_qk_inputs("ctxext::rope_qk_", q, k, cos, sin, q_scale);
  check_rope_qk_inplace(q, k);
  QkInto(q, k, cos, sin, q_scale, interleaved, /*inverse=*/false, q, k);
}

}  // namespace ctxext::ops
