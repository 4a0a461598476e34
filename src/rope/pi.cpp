// pi: position interpolation, θ^(−2i/d) / s (HF rope_type "linear").
#include <torch/torch.h>

#include "rope/rope_method_functions.h"

namespace ctxext::rope::methods {

namespace {

RopeFrequencies frequencies(const RopeOptions& options, int64_t head_dim, int64_t /*seq_len*/) {
  auto inv_freq = base_inv_freq(options.theta, head_dim);
  inv_freq.div_(options.factor);  // HF: inv_freq /= factor
  return {inv_freq, 1.0};
}

}  // namespace

const RopeMethod& pi() {
  static const RopeMethod m = RopeMethod("pi", "position interpolation: theta^(-2i/d) / s", frequencies, "linear")
                                  .reads_hf("linear", {"factor"});
  return m;
}

}  // namespace ctxext::rope::methods
