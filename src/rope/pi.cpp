// pi: position interpolation, θ^(−2i/d) / s (HF rope_type "linear").
#include <torch/torch.h>

#include "rope/rope_method_functions.h"

namespace ctxext::rope_methods {

RopeFrequencies pi(const RopeOptions& options, int64_t head_dim, int64_t /*seq_len*/) {
  auto inv_freq = base_inv_freq(options.theta, head_dim);
  inv_freq.div_(options.factor);  // HF: inv_freq /= factor
  return {inv_freq, 1.0};
}

}  // namespace ctxext::rope_methods
