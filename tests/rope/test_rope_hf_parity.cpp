// Golden parity with Hugging Face transformers for every method HF knows (tests/rope/rope_hf_oracle.h):
// inv_freq, attention_scaling and cos/sin tables at positions up to 4x beyond max_position_embeddings.
#include <catch2/catch.hpp>

#include "rope_hf_oracle.h"

using namespace ctxext::testing;

namespace {

const ParitySpecs& specs() {
  static const ParitySpecs all = [] {
    ParitySpecs m;
    m["none"] = {make_options("none", 10000.0, 1.0, 4096), 128, 4096,
                 {{"rope_type", "default"}, {"rope_theta", 10000.0}}, long_positions(4096)};
    m["none_theta_1e6"] = {make_options("none", 1e6, 1.0, 8192), 64, 8192,
                           {{"rope_type", "default"}, {"rope_theta", 1e6}}, long_positions(8192)};
    m["pi"] = {make_options("pi", 10000.0, 4.0, 4096), 128, 16384,
               {{"rope_type", "linear"}, {"rope_theta", 10000.0}, {"factor", 4.0}}, long_positions(16384)};
    // dynamic: HF's L0 is config.max_position_embeddings, so options.L0 = mpe.
    m["dynamic_ntk_beyond"] = {make_options("dynamic_ntk", 10000.0, 4.0, 4096), 128, 4096,
                               {{"rope_type", "dynamic"}, {"rope_theta", 10000.0}, {"factor", 4.0}},
                               long_positions(4096)};
    m["dynamic_ntk_just_beyond"] = {make_options("dynamic_ntk", 10000.0, 2.5, 4096), 128, 4096,
                                    {{"rope_type", "dynamic"}, {"rope_theta", 10000.0}, {"factor", 2.5}},
                                    positions_below(4096)};
    m["dynamic_ntk_at_original"] = {make_options("dynamic_ntk", 10000.0, 4.0, 4096), 128, 4096,
                                    {{"rope_type", "dynamic"}, {"rope_theta", 10000.0}, {"factor", 4.0}},
                                    positions_below(4095)};
    m["dynamic_ntk_below"] = {make_options("dynamic_ntk", 10000.0, 4.0, 4096), 128, 4096,
                              {{"rope_type", "dynamic"}, {"rope_theta", 10000.0}, {"factor", 4.0}},
                              positions_below(1999)};
    m["yarn"] = {make_options("yarn", 10000.0, 4.0, 4096), 128, 16384,
                 {{"rope_type", "yarn"}, {"rope_theta", 10000.0}, {"factor", 4.0},
                  {"original_max_position_embeddings", 4096}},
                 long_positions(16384)};
    {
      auto o = make_options("yarn", 10000.0, 8.0, 4096);
      o.beta_fast = 16.0;
      o.beta_slow = 2.0;
      o.mscale = 1.0;
      o.mscale_all_dim = 0.8;
      m["yarn_betas_mscale"] = {o, 128, 32768,
                                {{"rope_type", "yarn"}, {"rope_theta", 10000.0}, {"factor", 8.0},
                                 {"original_max_position_embeddings", 4096}, {"beta_fast", 16.0}, {"beta_slow", 2.0},
                                 {"mscale", 1.0}, {"mscale_all_dim", 0.8}},
                                long_positions(32768)};
    }
    {
      auto o = make_options("yarn", 1e6, 16.0, 2048);
      o.attention_factor = 1.25;
      o.truncate = false;
      m["yarn_attention_factor_no_truncate"] = {o, 64, 32768,
                                                {{"rope_type", "yarn"}, {"rope_theta", 1e6}, {"factor", 16.0},
                                                 {"original_max_position_embeddings", 2048},
                                                 {"attention_factor", 1.25}, {"truncate", false}},
                                                long_positions(32768)};
    }
    {
      auto o = make_options("llama3", 500000.0, 8.0, 8192);
      o.low_freq_factor = 1.0;
      o.high_freq_factor = 4.0;
      m["llama3"] = {o, 128, 131072,
                     {{"rope_type", "llama3"}, {"rope_theta", 500000.0}, {"factor", 8.0}, {"low_freq_factor", 1.0},
                      {"high_freq_factor", 4.0}, {"original_max_position_embeddings", 8192}},
                     long_positions(131072)};
    }
    // abf/eabf frequencies = HF default with rope_theta = abf_theta.
    for (const char* type : {"abf", "eabf"}) {
      auto o = make_options(type, 10000.0, 4.0, 4096);
      o.abf_theta = 500000.0;
      m[type] = {o, 128, 4096, {{"rope_type", "default"}, {"rope_theta", 500000.0}}, long_positions(4096)};
    }
    return m;
  }();
  return all;
}

}  // namespace

TEST_CASE("none matches HF default RoPE", "[rope][hf]") { check_against_hf(specs(), "none"); }

TEST_CASE("none with a changed rope_theta matches HF default RoPE", "[rope][hf]") {
  check_against_hf(specs(), "none_theta_1e6");
}

TEST_CASE("pi matches HF linear", "[rope][hf]") { check_against_hf(specs(), "pi"); }

TEST_CASE("dynamic_ntk matches HF dynamic at 4x the original context", "[rope][hf]") {
  check_against_hf(specs(), "dynamic_ntk_beyond");
}

TEST_CASE("dynamic_ntk matches HF dynamic one position beyond the original context", "[rope][hf]") {
  check_against_hf(specs(), "dynamic_ntk_just_beyond");
}

TEST_CASE("dynamic_ntk matches HF dynamic at exactly the original context", "[rope][hf]") {
  check_against_hf(specs(), "dynamic_ntk_at_original");
}

TEST_CASE("dynamic_ntk matches HF dynamic below the original context", "[rope][hf]") {
  check_against_hf(specs(), "dynamic_ntk_below");
}

TEST_CASE("yarn matches HF yarn with default settings", "[rope][hf]") { check_against_hf(specs(), "yarn"); }

TEST_CASE("yarn matches HF yarn with non-default betas and mscale/mscale_all_dim", "[rope][hf]") {
  check_against_hf(specs(), "yarn_betas_mscale");
}

TEST_CASE("yarn matches HF yarn with attention_factor and truncate=false", "[rope][hf]") {
  check_against_hf(specs(), "yarn_attention_factor_no_truncate");
}

TEST_CASE("llama3 matches HF llama3", "[rope][hf]") { check_against_hf(specs(), "llama3"); }

TEST_CASE("abf matches HF default RoPE with rope_theta = abf_theta", "[rope][hf]") { check_against_hf(specs(), "abf"); }

TEST_CASE("eabf frequencies match HF default RoPE with rope_theta = abf_theta", "[rope][hf]") {
  check_against_hf(specs(), "eabf");
}
