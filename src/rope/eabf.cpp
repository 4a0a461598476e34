// eabf: entropy-aware ABF. Frequencies as abf (abf_theta^(−2i/d)); in layers >= skip_layers the
// queries are multiplied by max(1, ln(pos+1)/ln(c)), c = eabf_context (0: the original context L0).
// HF form: stock loaders get "default" with rope_theta = abf_theta; the query scale lives only in
// "ctxext_rope". Read back also from the EABF authors' released dialect
// `"rope_scaling": {"type": "eabf", "factor": 4.0}` with no rope_theta, as their patch computes it.
#include <torch/torch.h>

#include <cmath>

#include "rope/rope_method_functions.h"

namespace ctxext::rope::methods {

namespace {

RopeFrequencies frequencies(const RopeOptions& options, int64_t head_dim, int64_t /*seq_len*/) {
  return {base_inv_freq(options.abf_theta, head_dim), 1.0};
}

// positions: [s] int64 -> [s] float32, or undefined below skip_layers
torch::Tensor query_scale(const RopeOptions& options, const torch::Tensor& positions, int64_t layer_index) {
  if (layer_index < options.eabf_skip_layers) return {};
  // Computed in float64 and rounded once, so the scale is the formula's value to float32 precision.
  const auto pos = positions.to(torch::kFloat64);
  return torch::clamp_min(torch::log(pos + 1.0) / std::log(options.query_scale_context()), 1.0).to(torch::kFloat32);
}

}  // namespace

const RopeMethod& eabf() {
  static const RopeMethod m = [] {
    auto m = RopeMethod("eabf",
                        "entropy-aware ABF: abf frequencies, queries x max(1, ln(pos+1)/ln c) from layer skip_layers",
                        frequencies, "default")
                 .with_keys({"abf_theta", "eabf_context", "skip_layers"})
                 .with_base(&RopeOptions::abf_theta)
                 .with_query_scale(query_scale)
                 // The EABF authors' release: `"rope_scaling": {"type": "eabf", "factor": 4.0}`, no rope_theta.
                 .reads_hf("eabf", {"factor"});
    m.hf.fidelity = HfFidelity::frequencies_only;  // the query scale lives only in ctxext_rope
    m.hf.read_defaults = {
        {"eabf_context", 4096.0, "their patch divides by ln 4096"},
        {"skip_layers", 0.0, "their layer skip never takes effect, so every layer is scaled: docs/rope.md"}};
    return m;
  }();
  return m;
}

}  // namespace ctxext::rope::methods
