#include "model/rms_norm.h"

#include <torch/torch.h>

#include "ops/rms_norm.h"

namespace ctxext::model {

RMSNormImpl::RMSNormImpl(int64_t hidden_size, double eps_) : eps(eps_) {
  weight = register_parameter("weight", torch::ones({hidden_size}));
}

// x: [..., h]. The fused op `ctxext::rms_norm` computes what HF LlamaRMSNorm does:
// weight * (x32 * rsqrt(mean(x32^2) + eps)).to(x.dtype), in one pass forward and one backward.
torch::Tensor RMSNormImpl::forward(const torch::Tensor& x) { return ops::rms_norm(x, weight, eps); }

}  // namespace ctxext::model
