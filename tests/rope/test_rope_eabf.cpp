// eabf, which has no HF implementation: its query scale and frequencies checked against an
// independent float64 re-derivation of the formulas in docs/rope.md.
#include <catch2/catch.hpp>
#include <torch/torch.h>

#include <cmath>

#include "rope/rope_method.h"
#include "rope/rope_tables.h"

using Catch::Matchers::Contains;

namespace {

ctxext::rope::RopeOptions eabf_options(int64_t skip_layers) {
  ctxext::rope::RopeOptions o;
  o.type = "eabf";
  o.abf_theta = 500000.0;
  o.eabf_context = 4096.0;
  o.eabf_skip_layers = skip_layers;
  return o;
}

const std::vector<int64_t> kPositions = {0, 1, 2, 100, 4094, 4095, 4096, 4097, 8191, 16383, 65535, 1000000};

// EABF paper: query *= max(1, log(pos + 1) / log(c)).
double expected_scale(int64_t pos, double c) { return std::max(1.0, std::log(static_cast<double>(pos) + 1.0) / std::log(c)); }

void check_scale(const torch::Tensor& scale, double c) {
  REQUIRE(scale.defined());
  REQUIRE(scale.scalar_type() == torch::kFloat32);
  REQUIRE(scale.numel() == static_cast<int64_t>(kPositions.size()));
  for (size_t i = 0; i < kPositions.size(); ++i) {
    INFO("position " << kPositions[i]);
    const double want = expected_scale(kPositions[i], c);
    CHECK(scale[i].item<double>() == Approx(want).epsilon(1e-7));
  }
}

}  // namespace

TEST_CASE("eabf query scale with skip_layers 2 (paper) leaves layers 0 and 1 unscaled", "[rope][eabf]") {
  const auto options = eabf_options(2);
  const auto positions = torch::tensor(kPositions, torch::kInt64);
  CHECK_FALSE(ctxext::rope::compute_query_scale(options, positions, 0).defined());
  CHECK_FALSE(ctxext::rope::compute_query_scale(options, positions, 1).defined());
  check_scale(ctxext::rope::compute_query_scale(options, positions, 2), 4096.0);
  check_scale(ctxext::rope::compute_query_scale(options, positions, 31), 4096.0);
}

TEST_CASE("eabf query scale with skip_layers 0 (official code's behaviour) scales every layer", "[rope][eabf]") {
  const auto options = eabf_options(0);
  const auto positions = torch::tensor(kPositions, torch::kInt64);
  for (int64_t layer : {0, 1, 2, 31}) {
    INFO("layer " << layer);
    check_scale(ctxext::rope::compute_query_scale(options, positions, layer), 4096.0);
  }
}

TEST_CASE("eabf query scale is exactly 1 inside the original context and grows past it", "[rope][eabf]") {
  auto options = eabf_options(0);
  options.eabf_context = 1024.0;
  const auto scale = ctxext::rope::compute_query_scale(options, torch::arange(0, 4096, torch::kInt64), 0);
  CHECK(scale.slice(0, 0, 1023).eq(1.0f).all().item<bool>());  // ln(pos+1) <= ln(c) up to pos = c - 1
  CHECK(scale[4095].item<double>() == Approx(std::log(4096.0) / std::log(1024.0)).epsilon(1e-7));
}

TEST_CASE("eabf's c defaults to the original context L0 (eabf_context 0), not a fixed 4096", "[rope][eabf]") {
  auto options = eabf_options(0);
  options.eabf_context = 0.0;
  options.original_max_position_embeddings = 256;
  CHECK(options.query_scale_context() == 256.0);
  const auto scale = ctxext::rope::compute_query_scale(options, torch::tensor(kPositions, torch::kInt64), 0);
  check_scale(scale, 256.0);
  CHECK(scale[4].item<double>() > 1.4);  // position 4094: ln 4095 / ln 256; with c = 4096 it would be 1
}

TEST_CASE("methods without a query scale return an undefined tensor", "[rope][eabf]") {
  for (const auto& type : ctxext::rope::rope_method_names()) {
    if (type == "eabf") continue;
    ctxext::rope::RopeOptions o;
    o.type = type;
    o.eabf_skip_layers = 0;
    INFO("method " << type);
    CHECK_FALSE(ctxext::rope::compute_query_scale(o, torch::arange(0, 8, torch::kInt64), 5).defined());
  }
}

TEST_CASE("eabf frequencies are abf_theta^(-2i/d) in float64 re-derivation", "[rope][eabf]") {
  const auto options = eabf_options(2);
  CHECK(options.effective_theta() == 500000.0);
  const int64_t d = 128;
  const auto freqs = ctxext::rope::compute_rope_frequencies(options, d, 1);
  CHECK(freqs.attention_scaling == 1.0);
  CHECK(ctxext::rope::find_rope_method("eabf").query_scale != nullptr);
  for (int64_t i = 0; i < d / 2; ++i) {
    INFO("i = " << i);
    CHECK(freqs.inv_freq[i].item<double>() == Approx(std::pow(500000.0, -2.0 * i / d)).epsilon(1e-6));
  }
}
