// The unscaled RoPE frequencies, computed exactly as HF computes them.
#include <torch/torch.h>

#include "rope/rope_method_functions.h"

namespace ctxext::rope::methods {

torch::Tensor base_inv_freq(double base, int64_t dim) {
  // HF: 1.0 / (base ** (torch.arange(0, dim, 2, dtype=torch.int64).float() / dim)); Python's
  // `1.0 / t` is t.reciprocal() * 1.0, and C++'s `1.0 / t` is the same expression.
  const auto exponent = torch::arange(0, dim, 2, torch::kInt64).to(torch::kFloat32) / dim;
  return 1.0 / torch::pow(base, exponent);
}

}  // namespace ctxext::rope::methods
