// llama3: per-band scaling. Wavelength > L0/low_freq_factor: /s; < L0/high_freq_factor: unchanged;
// in between: a smooth blend. Mirrors HF's _compute_llama3_parameters operation by operation.
#include <torch/torch.h>

#include <cmath>

#include "rope/rope_method_functions.h"

namespace ctxext::rope::methods {

namespace {

RopeFrequencies frequencies(const RopeOptions& options, int64_t head_dim, int64_t /*seq_len*/) {
  const double s = options.factor;
  const double low = options.low_freq_factor;
  const double high = options.high_freq_factor;
  const int64_t old_context = options.original_max_position_embeddings;
  const double low_freq_wavelen = static_cast<double>(old_context) / low;
  const double high_freq_wavelen = static_cast<double>(old_context) / high;

  const auto inv_freq = base_inv_freq(options.theta, head_dim);
  const auto wavelen = 2 * M_PI / inv_freq;
  auto scaled = torch::where(wavelen > low_freq_wavelen, inv_freq / s, inv_freq);
  const auto smooth = (old_context / wavelen - low) / (high - low);
  const auto smoothed = (1 - smooth) * scaled / s + smooth * scaled;
  const auto is_medium = (wavelen < high_freq_wavelen).logical_not() * (wavelen > low_freq_wavelen).logical_not();
  return {torch::where(is_medium, smoothed, scaled), 1.0};
}

}  // namespace

const RopeMethod& llama3() {
  static const RopeMethod m =
      RopeMethod("llama3", "Llama 3.1 bands: long wavelengths / s, short kept, a smooth blend between", frequencies,
                 "llama3")
          .with_keys({"low_freq_factor", "high_freq_factor"})
          .reads_hf("llama3", {"factor", "low_freq_factor", "high_freq_factor"});
  return m;
}

}  // namespace ctxext::rope::methods
