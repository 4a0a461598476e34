// dynamic_ntk: θ' = θ·((s·n/L0) − (s−1))^(d/(d−2)) with n = max(seq_len, L0) (HF rope_type "dynamic").
//
// HF evaluates this on two different paths, and parity needs both:
//  - n <= L0: the module keeps the frequencies computed at construction, where HF's rope init
//    ran with Python doubles (seq_len = max_position_embeddings), so θ' ≈ θ in double;
//  - n > L0: `dynamic_rope_update` passes seq_len = max(position_ids) + 1 as an int64 tensor,
//    so θ' is computed in float32 tensor arithmetic, then used as a float32 tensor base.
// L0 here is HF's config.max_position_embeddings (docs/rope.md).
#include <torch/torch.h>

#include <cmath>

#include "rope/rope_method_functions.h"

namespace ctxext::rope::methods {

namespace {

RopeFrequencies frequencies(const RopeOptions& options, int64_t head_dim, int64_t seq_len) {
  const int64_t l0 = options.original_max_position_embeddings;
  const double s = options.factor;
  const double exponent = static_cast<double>(head_dim) / static_cast<double>(head_dim - 2);
  if (seq_len <= l0) {
    const double base =
        options.theta * std::pow(s * static_cast<double>(l0) / static_cast<double>(l0) - (s - 1.0), exponent);
    return {base_inv_freq(base, head_dim), 1.0};
  }
  const auto n = torch::scalar_tensor(seq_len, torch::kInt64);
  const auto base = options.theta * (s * n / l0 - (s - 1.0)).pow(exponent);  // 0-d float32
  const auto powers = torch::arange(0, head_dim, 2, torch::kInt64).to(torch::kFloat32) / head_dim;
  return {1.0 / torch::pow(base, powers), 1.0};
}

}  // namespace

const RopeMethod& dynamic_ntk() {
  static const RopeMethod m = [] {
    auto m = RopeMethod("dynamic_ntk", "NTK-aware base grown with the sequence: theta * ((s*n/L0) - (s-1))^(d/(d-2))",
                        frequencies, "dynamic")
                 .reads_hf("dynamic", {"factor"});
    m.hf.l0_is_max_position_embeddings = true;
    return m;
  }();
  return m;
}

}  // namespace ctxext::rope::methods
