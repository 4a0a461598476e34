#include "model/rms_norm.h"

#include <torch/torch.h>

namespace ctxext {

RMSNormImpl::RMSNormImpl(int64_t hidden_size, double eps_) : eps(eps_) {
  weight = register_parameter("weight", torch::ones({hidden_size}));
}

// x: [..., h]
torch::Tensor RMSNormImpl::forward(const torch::Tensor& x) {
  const auto input_dtype = x.scalar_type();
  const auto x32 = x.to(torch::kFloat32);
  const auto variance = x32.pow(2).mean(-1, /*keepdim=*/true);
  return weight * (x32 * torch::rsqrt(variance + eps)).to(input_dtype);
}

}  // namespace ctxext
