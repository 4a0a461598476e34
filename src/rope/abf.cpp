// abf: adjusted base frequency, θ_new^(−2i/d) with θ_new = abf_theta (e.g. 500,000).
#include "rope/rope_method_functions.h"

namespace ctxext::rope::methods {

namespace {

RopeFrequencies frequencies(const RopeOptions& options, int64_t head_dim, int64_t /*seq_len*/) {
  return {base_inv_freq(options.abf_theta, head_dim), 1.0};
}

}  // namespace

const RopeMethod& abf() {
  static const RopeMethod m = RopeMethod("abf", "adjusted base frequency: abf_theta^(-2i/d)", frequencies, "default")
                                  .with_keys({"abf_theta"})
                                  .with_base(&RopeOptions::abf_theta);
  return m;
}

}  // namespace ctxext::rope::methods
