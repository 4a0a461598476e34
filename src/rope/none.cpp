// none: plain RoPE, θ^(−2i/d) (HF rope_type "default").
#include "rope/rope_method_functions.h"

namespace ctxext::rope::methods {

namespace {

RopeFrequencies frequencies(const RopeOptions& options, int64_t head_dim, int64_t /*seq_len*/) {
  return {base_inv_freq(options.theta, head_dim), 1.0};
}

}  // namespace

const RopeMethod& none() {
  static const RopeMethod m =
      RopeMethod("none", "plain RoPE, theta^(-2i/d)", frequencies, "default").reads_hf("default", {});
  return m;
}

}  // namespace ctxext::rope::methods
