// abf: adjusted base frequency, θ_new^(−2i/d) with θ_new = abf_theta (e.g. 500,000).
#include "rope/rope_method_functions.h"

namespace ctxext::rope_methods {

RopeFrequencies abf(const RopeOptions& options, int64_t head_dim, int64_t /*seq_len*/) {
  return {base_inv_freq(options.effective_theta(), head_dim), 1.0};
}

}  // namespace ctxext::rope_methods
