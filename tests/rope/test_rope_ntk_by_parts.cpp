// ntk_by_parts: YaRN's per-dimension ramp without the attention temperature. Against HF: stock
// transformers' yarn with attention_factor 1 (the form ctxext exports it in), to 4x beyond L0.
#include <catch2/catch.hpp>

#include <cmath>

#include "core/config.h"
#include "rope/rope_method.h"
#include "rope_hf_oracle.h"

using namespace ctxext;
using namespace ctxext::testing;

namespace {

const ParitySpecs& specs() {
  static const ParitySpecs all = [] {
    ParitySpecs m;
    m["ntk_by_parts"] = {make_options("ntk_by_parts", 10000.0, 4.0, 4096), 128, 16384,
                         {{"rope_type", "yarn"}, {"rope_theta", 10000.0}, {"factor", 4.0},
                          {"original_max_position_embeddings", 4096}, {"attention_factor", 1.0}},
                         long_positions(16384)};
    auto o = make_options("ntk_by_parts", 1e6, 8.0, 2048);
    o.beta_fast = 16.0;
    o.beta_slow = 2.0;
    o.truncate = false;
    m["ntk_by_parts_betas_no_truncate"] = {o, 64, 16384,
                                           {{"rope_type", "yarn"}, {"rope_theta", 1e6}, {"factor", 8.0},
                                            {"original_max_position_embeddings", 2048}, {"beta_fast", 16.0},
                                            {"beta_slow", 2.0}, {"truncate", false}, {"attention_factor", 1.0}},
                                           long_positions(16384)};
    return m;
  }();
  return all;
}

}  // namespace

TEST_CASE("ntk_by_parts matches HF yarn with attention_factor 1", "[rope][ntk_by_parts][hf]") {
  check_against_hf(specs(), "ntk_by_parts");
}

TEST_CASE("ntk_by_parts matches HF yarn with attention_factor 1, other betas, truncate false",
          "[rope][ntk_by_parts][hf]") {
  check_against_hf(specs(), "ntk_by_parts_betas_no_truncate");
}

TEST_CASE("ntk_by_parts = yarn's frequencies, cos/sin unscaled where yarn's are x (0.1 ln s + 1)",
          "[rope][ntk_by_parts]") {
  auto o = make_options("ntk_by_parts", 10000.0, 4.0, 256);
  o.attention_factor = 1.7;  // a yarn key: ntk_by_parts has no temperature whatever it says
  auto yarn = o;
  yarn.type = "yarn";
  yarn.attention_factor.reset();
  const auto ours = rope::compute_rope_frequencies(o, 64, 1024);
  const auto theirs = rope::compute_rope_frequencies(yarn, 64, 1024);
  CHECK(torch::equal(ours.inv_freq, theirs.inv_freq));
  CHECK(ours.attention_scaling == 1.0);
  CHECK(theirs.attention_scaling == Approx(0.1 * std::log(4.0) + 1.0));
}

TEST_CASE("ntk_by_parts in a config: `type: ntk_by_parts` with its keys", "[rope][ntk_by_parts]") {
  const auto config = Config::parse("rope:\n  type: ntk_by_parts\n  factor: 4\n  beta_fast: 24\n", "c.yaml");
  const auto o = rope::parse_rope_options(config.root().child("rope"));
  CHECK(o.type == "ntk_by_parts");
  CHECK(o.beta_fast == 24.0);
  const auto& m = rope::find_rope_method("ntk_by_parts");
  CHECK(std::string(m.hf.type) == "yarn");
  REQUIRE(m.hf.fixed.size() == 1);
  CHECK(std::string(m.hf.fixed[0].first) == "attention_factor");
  CHECK(m.hf.fixed[0].second == 1.0);
}
