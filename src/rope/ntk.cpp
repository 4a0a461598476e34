// ntk: fixed-α NTK-aware scaling, (θ·α^(d/(d−2)))^(−2i/d); α = ntk_alpha, or factor when 0.
// HF form: "default" with that base as rope_theta (the very double the frequencies use).
#include <cmath>

#include "rope/rope_method_functions.h"

namespace ctxext::rope::methods {

namespace {

double ntk_base(const RopeOptions& options, int64_t head_dim) {
  const double alpha = options.ntk_alpha > 0.0 ? options.ntk_alpha : options.factor;
  const double d = static_cast<double>(head_dim);
  return options.theta * std::pow(alpha, d / (d - 2.0));
}

RopeFrequencies frequencies(const RopeOptions& options, int64_t head_dim, int64_t /*seq_len*/) {
  return {base_inv_freq(ntk_base(options, head_dim), head_dim), 1.0};
}

}  // namespace

const RopeMethod& ntk() {
  static const RopeMethod m = [] {
    auto m = RopeMethod("ntk", "fixed NTK-aware base: (theta * alpha^(d/(d-2)))^(-2i/d), alpha = ntk_alpha or s",
                        frequencies, "default")
                 .with_keys({"ntk_alpha"});
    m.hf.theta = ntk_base;  // the very double the frequencies use
    return m;
  }();
  return m;
}

}  // namespace ctxext::rope::methods
