// Argument checks of the `ctxext::rms_norm` op, one message per reason.
#include <torch/torch.h>

#include "core/error.h"
#include "ops/rms_norm_kernels.h"

namespace ctxext::ops {

namespace {

std::string shape_of(const at::Tensor& t) { return fmt::format("[{}]", fmt::join(t.sizes(), ", ")); }

bool float_dtype(at::ScalarType t) {
  return t == at::kFloat || t == at::kDouble || t == at::kBFloat16 || t == at::kHalf;
}

}  // namespace

void check_rms_norm_inputs(const at::Tensor& x, const at::Tensor& weight) {
  if (!x.defined()) fail("ctxext::rms_norm: x is undefined");
  if (!weight.defined()) fail("ctxext::rms_norm: weight is undefined");
  if (x.dim() < 1) fail("ctxext::rms_norm: x has shape {}, expected [..., h]", shape_of(x));
  if (!float_dtype(x.scalar_type()))
    fail("ctxext::rms_norm: x has dtype {}, expected float32, float64, bfloat16 or float16",
         std::string(c10::toString(x.scalar_type())));
  if (!float_dtype(weight.scalar_type()))
    fail("ctxext::rms_norm: weight has dtype {}, expected float32, float64, bfloat16 or float16",
         std::string(c10::toString(weight.scalar_type())));
  if (weight.dim() != 1 || weight.size(0) != x.size(-1))
    fail("ctxext::rms_norm: weight has shape {}, expected [{}] for x of shape {}", shape_of(weight), x.size(-1),
         shape_of(x));
  if (weight.device() != x.device())
    fail("ctxext::rms_norm: weight is on {}, x is on {}", weight.device().str(), x.device().str());
}

}  // namespace ctxext::ops
