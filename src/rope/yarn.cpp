// yarn: blend of interpolated (θ^(−2i/d)/s) and extrapolated (θ^(−2i/d)) frequencies by a linear
// ramp between the dims that rotate beta_fast and beta_slow times over L0; cos/sin × mscale.
// Mirrors HF's _compute_yarn_parameters operation by operation (float32 tensors, double scalars).
#include <torch/torch.h>

#include <algorithm>
#include <cmath>

#include "rope/rope_method_functions.h"

namespace ctxext::rope::methods {

namespace {

double get_mscale(double scale, double mscale) { return scale <= 1.0 ? 1.0 : 0.1 * mscale * std::log(scale) + 1.0; }

// The (fractional) dimension index that completes `rotations` turns over `context` positions.
double correction_dim(double rotations, double dim, double base, double context) {
  return (dim * std::log(context / (rotations * 2 * M_PI))) / (2 * std::log(base));
}

RopeFrequencies frequencies(const RopeOptions& options, int64_t head_dim, int64_t /*seq_len*/) {
  const double s = options.factor;
  const double base = options.theta;
  const double dim = static_cast<double>(head_dim);
  const double context = static_cast<double>(options.original_max_position_embeddings);

  double attention_factor;
  if (options.attention_factor) {
    attention_factor = *options.attention_factor;
  } else if (options.mscale.value_or(0.0) != 0.0 && options.mscale_all_dim.value_or(0.0) != 0.0) {
    attention_factor = get_mscale(s, *options.mscale) / get_mscale(s, *options.mscale_all_dim);
  } else {
    attention_factor = get_mscale(s, 1.0);
  }

  const auto pos_freqs = torch::pow(base, torch::arange(0, head_dim, 2, torch::kInt64).to(torch::kFloat32) / head_dim);
  const auto inv_freq_extrapolation = 1.0 / pos_freqs;
  const auto inv_freq_interpolation = 1.0 / (s * pos_freqs);

  double low = correction_dim(options.beta_fast, dim, base, context);
  double high = correction_dim(options.beta_slow, dim, base, context);
  if (options.truncate) {
    low = std::floor(low);
    high = std::ceil(high);
  }
  low = std::max(low, 0.0);
  high = std::min(high, dim - 1);
  if (low == high) high += 0.001;  // HF: prevent a zero-width ramp

  const auto ramp = ((torch::arange(head_dim / 2, torch::kFloat32) - low) / (high - low)).clamp(0, 1);
  const auto extrapolation_factor = 1 - ramp;
  const auto inv_freq =
      inv_freq_interpolation * (1 - extrapolation_factor) + inv_freq_extrapolation * extrapolation_factor;
  return {inv_freq, attention_factor};
}

}  // namespace

const RopeMethod& yarn() {
  static const RopeMethod m =
      RopeMethod("yarn",
                 "YaRN: per-dimension ramp between interpolated and original frequencies, cos/sin x attention factor",
                 frequencies, "yarn")
          .with_keys({"beta_fast", "beta_slow", "mscale", "mscale_all_dim", "attention_factor", "truncate"})
          .reads_hf("yarn", {"factor"});
  return m;
}

}  // namespace ctxext::rope::methods
