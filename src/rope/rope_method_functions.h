// What the method files rope/<method>.cpp share. Only the registry and the method files include this.
#pragma once
#include <torch/types.h>

#include "rope/rope_method.h"

namespace ctxext::rope::methods {

// [dim/2] float32: 1 / base^(arange(0, dim, 2) / dim), the float32 arithmetic of HF's rope init
// functions (int64 arange -> float32, torch.pow(scalar base, tensor), then 1.0 / x).
torch::Tensor base_inv_freq(double base, int64_t dim);

}  // namespace ctxext::rope::methods
