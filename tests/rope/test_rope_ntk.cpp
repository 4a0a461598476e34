// ntk (fixed alpha), which has no HF type of its own: frequencies against an independent float64
// re-derivation of (theta * alpha^(d/(d-2)))^(-2i/d) (docs/rope.md).
#include <catch2/catch.hpp>
#include <torch/torch.h>

#include <cmath>

#include "rope/rope_method.h"

TEST_CASE("ntk frequencies are (theta * alpha^(d/(d-2)))^(-2i/d), alpha = ntk_alpha or factor", "[rope][ntk]") {
  const int64_t d = 128;
  for (double alpha : {0.0, 3.0}) {
    ctxext::rope::RopeOptions o;
    o.type = "ntk";
    o.theta = 10000.0;
    o.factor = 8.0;
    o.ntk_alpha = alpha;
    const double a = alpha > 0 ? alpha : o.factor;
    const double base = 10000.0 * std::pow(a, static_cast<double>(d) / (d - 2));
    const auto freqs = ctxext::rope::compute_rope_frequencies(o, d, 1);
    CHECK(ctxext::rope::find_rope_method("ntk").hf_theta(o, d) == base);
    for (int64_t i = 0; i < d / 2; ++i) {
      INFO("alpha " << alpha << ", i = " << i);
      CHECK(freqs.inv_freq[i].item<double>() == Approx(std::pow(base, -2.0 * i / d)).epsilon(1e-6));
    }
  }
}
