// Argument checks of the `ctxext::rope` and `ctxext::rope_qk` ops, one message per reason.
#include <torch/torch.h>

#include "core/error.h"
#include "ops/rope_kernels.h"

namespace ctxext::ops {

namespace {

std::string shape_of(const at::Tensor& t) { return fmt::format("[{}]", fmt::join(t.sizes(), ", ")); }

std::string dtype_of(const at::Tensor& t) { return std::string(c10::toString(t.scalar_type())); }

// `name` is the rotated tensor ("x", "q" or "k") the tables are checked against.
void check_table(const char* op, const char* table, const at::Tensor& t, const char* name, const at::Tensor& x,
                 at::IntArrayRef expected) {
  if (!t.defined()) fail("{}: {} is undefined", op, table);
  if (t.sizes() != expected)
    fail("{}: {} has shape {}, expected [{}] for {} of shape {}", op, table, shape_of(t), fmt::join(expected, ", "),
         name, shape_of(x));
  if (t.scalar_type() != at::kFloat && t.scalar_type() != at::kDouble)
    fail("{}: {} has dtype {}, expected float32 or float64", op, table, dtype_of(t));
  if (t.device() != x.device()) fail("{}: {} is on {}, {} is on {}", op, table, t.device().str(), name, x.device().str());
}

// x: [b, s, n_h, h_d] named `name`; cos, sin: [s, h_d/2]; scale: optional [s]
void check_rotated(const char* op, const char* name, const at::Tensor& x, const at::Tensor& cos, const at::Tensor& sin,
                   const std::optional<at::Tensor>& scale) {
  if (!x.defined()) fail("{}: {} is undefined", op, name);
  if (x.dim() != 4) fail("{}: {} has shape {}, expected [b, s, n_h, h_d]", op, name, shape_of(x));
  const auto t = x.scalar_type();
  if (t != at::kFloat && t != at::kDouble && t != at::kBFloat16 && t != at::kHalf)
    fail("{}: {} has dtype {}, expected float32, float64, bfloat16 or float16", op, name, dtype_of(x));
  const int64_t s = x.size(1), h_d = x.size(3);
  if (h_d % 2 != 0) fail("{}: {} has shape {}: head dim {} must be even", op, name, shape_of(x), h_d);
  check_table(op, "cos", cos, name, x, {s, h_d / 2});
  check_table(op, "sin", sin, name, x, {s, h_d / 2});
  if (scale && scale->defined()) check_table(op, "scale", *scale, name, x, {s});
}

}  // namespace

void check_rope_inputs(const at::Tensor& x, const at::Tensor& cos, const at::Tensor& sin,
                       const std::optional<at::Tensor>& scale) {
  check_rotated("ctxext::rope", "x", x, cos, sin, scale);
}

void check_rope_qk_inputs(const char* op, const at::Tensor& q, const at::Tensor& k, const at::Tensor& cos,
                          const at::Tensor& sin, const std::optional<at::Tensor>& q_scale) {
  check_rotated(op, "q", q, cos, sin, q_scale);
  check_rotated(op, "k", k, cos, sin, std::nullopt);
  if (k.size(0) != q.size(0) || k.size(1) != q.size(1) || k.size(3) != q.size(3))
    fail("{}: k has shape {}, q has shape {}: batch, sequence and head dim must agree", op, shape_of(k), shape_of(q));
  if (k.scalar_type() != q.scalar_type()) fail("{}: k has dtype {}, q has dtype {}", op, dtype_of(k), dtype_of(q));
  if (k.device() != q.device()) fail("{}: k is on {}, q is on {}", op, k.device().str(), q.device().str());
}

void check_rope_qk_inplace(const at::Tensor& q, const at::Tensor& k) {
  for (const auto& [name, t] : {std::pair<const char*, const at::Tensor&>{"q", q}, {"k", k}}) {
    if (t.requires_grad())
      fail("ctxext::rope_qk_: {} requires grad; the in-place rotation is for inference, use ctxext::rope_qk", name);
    if (!t.is_contiguous())
      fail("ctxext::rope_qk_: {} of shape {} is not contiguous; the in-place rotation needs contiguous inputs", name,
           shape_of(t));
  }
  if (q.numel() > 0 && q.data_ptr() == k.data_ptr()) fail("ctxext::rope_qk_: q and k are the same storage");
}

}  // namespace ctxext::ops
