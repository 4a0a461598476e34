// Argument checks of the `ctxext::rope` op, one message per reason.
#include <torch/torch.h>

#include "core/error.h"
#include "ops/rope_kernels.h"

namespace ctxext::ops {

namespace {

std::string shape_of(const at::Tensor& t) { return fmt::format("[{}]", fmt::join(t.sizes(), ", ")); }

void check_table(const char* name, const at::Tensor& t, const at::Tensor& x, at::IntArrayRef expected) {
  if (!t.defined()) fail("ctxext::rope: {} is undefined", name);
  if (t.sizes() != expected)
    fail("ctxext::rope: {} has shape {}, expected [{}] for x of shape {}", name, shape_of(t), fmt::join(expected, ", "),
         shape_of(x));
  if (t.scalar_type() != at::kFloat && t.scalar_type() != at::kDouble)
    fail("ctxext::rope: {} has dtype {}, expected float32 or float64", name, std::string(c10::toString(t.scalar_type())));
  if (t.device() != x.device())
    fail("ctxext::rope: {} is on {}, x is on {}", name, t.device().str(), x.device().str());
}

}  // namespace

void check_rope_inputs(const at::Tensor& x, const at::Tensor& cos, const at::Tensor& sin,
                       const std::optional<at::Tensor>& scale) {
  if (!x.defined()) fail("ctxext::rope: x is undefined");
  if (x.dim() != 4) fail("ctxext::rope: x has shape {}, expected [b, s, n_h, h_d]", shape_of(x));
  const auto t = x.scalar_type();
  if (t != at::kFloat && t != at::kDouble && t != at::kBFloat16 && t != at::kHalf)
    fail("ctxext::rope: x has dtype {}, expected float32, float64, bfloat16 or float16", std::string(c10::toString(t)));
  const int64_t s = x.size(1), h_d = x.size(3);
  if (h_d % 2 != 0) fail("ctxext::rope: x has shape {}: head dim {} must be even", shape_of(x), h_d);
  check_table("cos", cos, x, {s, h_d / 2});
  check_table("sin", sin, x, {s, h_d / 2});
  if (scale && scale->defined()) check_table("scale", *scale, x, {s});
}

}  // namespace ctxext::ops
