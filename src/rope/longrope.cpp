// longrope: per-dimension divisors of the RoPE frequencies, short_factor up to L0 and long_factor
// beyond (seq_len > L0); cos/sin × attention_factor, by default sqrt(1 + ln s / ln L0) (1 when
// s <= 1). Mirrors HF's _compute_longrope_parameters and its longrope_frequency_update (HF rope_type
// "longrope"): float32 factors × float32 base powers, then 1.0 / x.
#include <torch/torch.h>

#include <cmath>

#include "core/error.h"
#include "rope/rope_method_functions.h"

namespace ctxext::rope::methods {

namespace {

RopeFrequencies frequencies(const RopeOptions& options, int64_t head_dim, int64_t seq_len) {
  const int64_t l0 = options.original_max_position_embeddings;
  for (const auto* list : {&options.short_factor, &options.long_factor}) {
    const char* key = list == &options.short_factor ? "short_factor" : "long_factor";
    if (static_cast<int64_t>(list->size()) != head_dim / 2)
      fail("rope.{}: has {} values; longrope needs head_dim/2 = {}, one per frequency", key, list->size(),
           head_dim / 2);
  }
  double attention_factor = 1.0;
  if (options.attention_factor) {
    attention_factor = *options.attention_factor;
  } else if (options.factor > 1.0) {
    attention_factor = std::sqrt(1.0 + std::log(options.factor) / std::log(static_cast<double>(l0)));
  }
  const auto& factors = seq_len > l0 ? options.long_factor : options.short_factor;
  const auto ext_factors = torch::tensor(factors, torch::kFloat64).to(torch::kFloat32);
  const auto shape = torch::arange(0, head_dim, 2, torch::kInt64).to(torch::kFloat32) / head_dim;
  return {1.0 / (ext_factors * torch::pow(options.theta, shape)), attention_factor};
}

}  // namespace

const RopeMethod& longrope() {
  static const RopeMethod m = [] {
    auto m =
        RopeMethod(
            "longrope",
            "LongRoPE: frequencies / short_factor[i] up to L0, / long_factor[i] beyond; cos/sin x attention factor",
            frequencies, "longrope")
            .with_keys({"short_factor", "long_factor", "attention_factor"})
            .reads_hf("longrope", {"short_factor", "long_factor"});
    m.hf.factor_from_context = true;
    return m;
  }();
  return m;
}

}  // namespace ctxext::rope::methods
