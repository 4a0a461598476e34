// longrope: per-dimension short/long divisors switched on L0, attention factor sqrt(1 + ln s / ln L0)
// by default. Against HF: stock transformers' "longrope" (ROPE_INIT_FUNCTIONS and the module's
// longrope_frequency_update), at and below L0, one past it, and to 4x beyond.
#include <catch2/catch.hpp>

#include <cmath>

#include "rope/rope_method.h"
#include "rope_hf_oracle.h"

using namespace ctxext;
using namespace ctxext::testing;
using Catch::Matchers::Contains;

namespace {

constexpr int64_t kHeadDim = 64;
constexpr int64_t kL0 = 4096;

std::vector<double> factors(double first, double step) {
  std::vector<double> v;
  for (int64_t i = 0; i < kHeadDim / 2; ++i) v.push_back(first + step * static_cast<double>(i));
  return v;
}

rope::RopeOptions longrope(double factor) {
  auto o = make_options("longrope", 10000.0, factor, kL0);
  o.short_factor = factors(1.0, 0.03125);
  o.long_factor = factors(1.5, 0.75);
  return o;
}

nlohmann::json hf_parameters(const rope::RopeOptions& o) {
  return {{"rope_type", "longrope"}, {"rope_theta", o.theta}, {"factor", o.factor},
          {"original_max_position_embeddings", o.original_max_position_embeddings},
          {"short_factor", o.short_factor}, {"long_factor", o.long_factor}};
}

const ParitySpecs& specs() {
  static const ParitySpecs all = [] {
    ParitySpecs m;
    const auto o = longrope(4.0);
    m["short"] = {o, kHeadDim, 4 * kL0, hf_parameters(o), positions_below(kL0 - 1)};
    m["just_beyond"] = {o, kHeadDim, 4 * kL0, hf_parameters(o), positions_below(kL0)};
    m["long"] = {o, kHeadDim, 4 * kL0, hf_parameters(o), long_positions(4 * kL0)};
    auto given = longrope(8.0);
    given.attention_factor = 1.2;
    auto given_hf = hf_parameters(given);
    given_hf["attention_factor"] = 1.2;
    m["attention_factor"] = {given, kHeadDim, 8 * kL0, given_hf, long_positions(8 * kL0)};
    // Phi-3's form: no factor; HF takes max_position_embeddings / L0 (32 here).
    auto phi3 = longrope(32.0);
    auto phi3_hf = hf_parameters(phi3);
    phi3_hf.erase("factor");
    m["factor_from_context"] = {phi3, kHeadDim, 32 * kL0, phi3_hf, long_positions(kL0)};
    return m;
  }();
  return all;
}

}  // namespace

TEST_CASE("longrope matches HF up to L0 (short_factor)", "[rope][longrope][hf]") { check_against_hf(specs(), "short"); }

TEST_CASE("longrope matches HF one position past L0 (long_factor)", "[rope][longrope][hf]") {
  check_against_hf(specs(), "just_beyond");
}

TEST_CASE("longrope matches HF to 4x beyond its extended context", "[rope][longrope][hf]") {
  check_against_hf(specs(), "long");
}

TEST_CASE("longrope matches HF with an explicit attention_factor", "[rope][longrope][hf]") {
  check_against_hf(specs(), "attention_factor");
}

TEST_CASE("longrope matches HF when config.json has no factor (max_position_embeddings / L0)", "[rope][longrope][hf]") {
  check_against_hf(specs(), "factor_from_context");
}

TEST_CASE("longrope switches lists at L0 and scales cos/sin by sqrt(1 + ln s / ln L0)", "[rope][longrope]") {
  const auto o = longrope(4.0);
  const auto at_l0 = rope::compute_rope_frequencies(o, kHeadDim, kL0);
  const auto past = rope::compute_rope_frequencies(o, kHeadDim, kL0 + 1);
  for (int64_t i = 0; i < kHeadDim / 2; ++i) {
    INFO("i = " << i);
    const double plain = std::pow(10000.0, -2.0 * static_cast<double>(i) / kHeadDim);
    CHECK(at_l0.inv_freq[i].item<double>() == Approx(plain / o.short_factor[i]).epsilon(1e-6));
    CHECK(past.inv_freq[i].item<double>() == Approx(plain / o.long_factor[i]).epsilon(1e-6));
  }
  const double expected = std::sqrt(1.0 + std::log(4.0) / std::log(static_cast<double>(kL0)));
  CHECK(at_l0.attention_scaling == Approx(expected).epsilon(1e-15));
  CHECK(past.attention_scaling == at_l0.attention_scaling);
  CHECK(rope::compute_rope_frequencies(longrope(1.0), kHeadDim, 1).attention_scaling == 1.0);
}

TEST_CASE("longrope refuses factor lists that are not head_dim/2 long, naming the key", "[rope][longrope]") {
  auto o = longrope(4.0);
  o.long_factor.pop_back();
  CHECK_THROWS_WITH(rope::compute_rope_frequencies(o, kHeadDim, 1),
                    Contains("rope.long_factor") && Contains("31 values") && Contains("head_dim/2 = 32"));
  o = longrope(4.0);
  o.short_factor.clear();
  CHECK_THROWS_WITH(rope::compute_rope_frequencies(o, kHeadDim, 1), Contains("rope.short_factor") && Contains("0 values"));
}
