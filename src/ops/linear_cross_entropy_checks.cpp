// Argument checks of the `ctxext::linear_cross_entropy` op, one message per reason.
#include <torch/torch.h>

#include "core/error.h"
#include "ops/linear_cross_entropy_kernels.h"

namespace ctxext::ops {

namespace {

constexpr const char* kOp = "ctxext::linear_cross_entropy";

std::string shape_of(const at::Tensor& t) { return fmt::format("[{}]", fmt::join(t.sizes(), ", ")); }

std::string dtype_of(const at::Tensor& t) { return std::string(c10::toString(t.scalar_type())); }

bool float_dtype(at::ScalarType t) {
  return t == at::kFloat || t == at::kDouble || t == at::kBFloat16 || t == at::kHalf;
}

}  // namespace

bool check_linear_cross_entropy_inputs(const at::Tensor& hidden, const at::Tensor& weight, const at::Tensor& targets,
                                       std::string_view reduction) {
  if (!hidden.defined()) fail("{}: hidden is undefined", kOp);
  if (!weight.defined()) fail("{}: weight is undefined", kOp);
  if (!targets.defined()) fail("{}: targets is undefined", kOp);
  if (reduction != "sum" && reduction != "mean")
    fail("{}: reduction '{}' is not one of sum, mean", kOp, reduction);
  if (hidden.dim() != 2) fail("{}: hidden has shape {}, expected [n, h]", kOp, shape_of(hidden));
  if (!float_dtype(hidden.scalar_type()))
    fail("{}: hidden has dtype {}, expected float32, float64, bfloat16 or float16", kOp, dtype_of(hidden));
  if (weight.dim() != 2 || weight.size(1) != hidden.size(1))
    fail("{}: weight has shape {}, expected [v, {}] for hidden of shape {}", kOp, shape_of(weight), hidden.size(1),
         shape_of(hidden));
  if (weight.size(0) == 0) fail("{}: weight has shape {}, expected at least one vocabulary row", kOp, shape_of(weight));
  if (weight.scalar_type() != hidden.scalar_type())
    fail("{}: weight has dtype {}, hidden has dtype {} (expected the same)", kOp, dtype_of(weight), dtype_of(hidden));
  if (targets.dim() != 1 || targets.size(0) != hidden.size(0))
    fail("{}: targets has shape {}, expected [{}] for hidden of shape {}", kOp, shape_of(targets), hidden.size(0),
         shape_of(hidden));
  if (targets.scalar_type() != at::kLong) fail("{}: targets has dtype {}, expected Long (int64)", kOp, dtype_of(targets));
  if (weight.device() != hidden.device())
    fail("{}: weight is on {}, hidden is on {}", kOp, weight.device().str(), hidden.device().str());
  if (targets.device() != hidden.device())
    fail("{}: targets is on {}, hidden is on {}", kOp, targets.device().str(), hidden.device().str());
  return reduction == "mean";
}

int64_t check_linear_cross_entropy_targets(const at::Tensor& targets, int64_t vocab, int64_t ignore_index) {
  const int64_t* t = targets.const_data_ptr<int64_t>();
  int64_t supervised = 0;
  for (int64_t i = 0; i < targets.numel(); ++i) {
    if (t[i] == ignore_index) continue;
    if (t[i] < 0 || t[i] >= vocab)
      fail("{}: targets[{}] is {}, outside [0, {}) (the vocabulary of weight) and not ignore_index {}", kOp, i, t[i],
           vocab, ignore_index);
    ++supervised;
  }
  return supervised;
}

}  // namespace ctxext::ops
