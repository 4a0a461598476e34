// ntk: fixed-α NTK-aware scaling, (θ·α^(d/(d−2)))^(−2i/d); α = ntk_alpha, or factor when 0.
// No HF equivalent; the base is computed in double, the powers as HF's default frequencies.
#include <cmath>

#include "rope/rope_method_functions.h"

namespace ctxext::rope_methods {

RopeFrequencies ntk(const RopeOptions& options, int64_t head_dim, int64_t /*seq_len*/) {
  const double alpha = options.ntk_alpha > 0.0 ? options.ntk_alpha : options.factor;
  const double d = static_cast<double>(head_dim);
  return {base_inv_freq(options.theta * std::pow(alpha, d / (d - 2.0)), head_dim), 1.0};
}

}  // namespace ctxext::rope_methods
