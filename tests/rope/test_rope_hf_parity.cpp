// Golden parity with Hugging Face transformers (tests/oracle/rope_reference.py): inv_freq,
// attention_scaling and cos/sin tables of every method HF knows, at positions up to 4x beyond
// max_position_embeddings. Provenance of every reference value: transformers' own
// LlamaRotaryEmbedding (one fresh module, one forward over the listed positions).
//
// All specs go to ONE Python call per process; its JSON answer is cached next to this test binary,
// keyed by a hash of the specs, the oracle script and requirements.txt, so CTest's one process per
// test case does not pay the transformers import (several seconds) for every case.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>
#include <torch/torch.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <map>

#include "ctxext/build_info.h"
#include "rope/rope_method.h"
#include "rope/rope_tables.h"
#include "support/test_support.h"

using nlohmann::json;
namespace fs = std::filesystem;
namespace t = ctxext::testing;

namespace {

struct ParitySpec {
  ctxext::RopeOptions options;
  int64_t head_dim;
  int64_t max_position_embeddings;  // HF config.max_position_embeddings
  json hf_rope_parameters;
  std::vector<int64_t> positions;
};

// Positions from 0 to 4 * mpe - 1: the edges of the original window, its multiples, and an even grid.
std::vector<int64_t> long_positions(int64_t mpe) {
  std::vector<int64_t> p = {0, 1, 2, 3, 7, 100, 1000, mpe - 1, mpe, mpe + 1, 2 * mpe + 3, 3 * mpe - 5, 4 * mpe - 1};
  for (int64_t i = 1; i < 32; ++i) p.push_back(i * (4 * mpe - 1) / 32);
  return p;
}

std::vector<int64_t> positions_below(int64_t last) {
  std::vector<int64_t> p = {0, 1, 2, 3, 7, 100, last / 2, last};
  return p;
}

ctxext::RopeOptions make_options(const std::string& type, double theta, double factor, int64_t l0) {
  ctxext::RopeOptions o;
  o.type = type;
  o.theta = theta;
  o.factor = factor;
  o.original_max_position_embeddings = l0;
  return o;
}

const std::map<std::string, ParitySpec>& specs() {
  static const std::map<std::string, ParitySpec> all = [] {
    std::map<std::string, ParitySpec> m;
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

uint64_t fnv1a(const std::string& text) {
  uint64_t h = 1469598103934665603ull;
  for (unsigned char c : text) h = (h ^ c) * 1099511628211ull;
  return h;
}

// name -> HF result, from the cache or one oracle call.
const std::map<std::string, json>& hf_results() {
  static const std::map<std::string, json> results = [] {
    json spec_list = json::array();
    for (const auto& [name, s] : specs())
      spec_list.push_back({{"name", name},
                           {"head_dim", s.head_dim},
                           {"max_position_embeddings", s.max_position_embeddings},
                           {"rope_parameters", s.hf_rope_parameters},
                           {"positions", s.positions}});
    const std::string source = CTXEXT_SOURCE_DIR;
    const std::string key = spec_list.dump() + t::read_text(source + "/tests/oracle/rope_reference.py") +
                            t::read_text(source + "/requirements.txt");
    const fs::path cache = fs::read_symlink("/proc/self/exe").parent_path() / "oracle-cache" /
                           fmt::format("rope_reference-{:016x}.json", fnv1a(key));
    std::string text;
    if (fs::exists(cache)) {
      text = t::read_text(cache);
    } else {
      // Scratch files live beside the cache rather than in a TempDir: TempDir's remove_all resolves
      // to the std::filesystem copy exported by the pip libtorch.so, which crashes.
      fs::create_directories(cache.parent_path());
      const std::string stem = cache.string() + ".tmp" + std::to_string(getpid());
      t::write_text(stem + ".specs", spec_list.dump());
      t::run_oracle("rope_reference.py", {stem + ".specs", stem});
      text = t::read_text(stem);
      std::remove((stem + ".specs").c_str());
      // Written whole, then renamed: parallel test processes never read a partial cache file.
      fs::rename(stem, cache);
    }
    const auto parsed = json::parse(text);
    std::map<std::string, json> by_name;
    for (const auto& r : parsed.at("results")) by_name[r.at("name").get<std::string>()] = r;
    return by_name;
  }();
  return results;
}

torch::Tensor to_tensor(const json& values) {
  const auto flat = values.is_array() && !values.empty() && values[0].is_array() ? values : json::array({values});
  std::vector<float> data;
  for (const auto& row : flat)
    for (const auto& v : row) data.push_back(v.get<float>());
  const auto rows = static_cast<int64_t>(flat.size());
  return torch::tensor(data).reshape({rows, static_cast<int64_t>(data.size()) / rows});
}

// Max |a - b|, NaN when either holds a NaN (so a NaN never passes a `<=` check).
double max_abs_diff(const torch::Tensor& a, const torch::Tensor& b) {
  return (a.to(torch::kFloat64) - b.to(torch::kFloat64)).abs().max().item<double>();
}

void check_against_hf(const std::string& name) {
  const auto& spec = specs().at(name);
  const auto& hf = hf_results().at(name);
  const int64_t seq_len = *std::max_element(spec.positions.begin(), spec.positions.end()) + 1;
  INFO("spec " << name << ", seq_len " << seq_len);

  const auto freqs = ctxext::compute_rope_frequencies(spec.options, spec.head_dim, seq_len);
  const auto hf_inv_freq = to_tensor(hf["inv_freq"]).flatten();
  REQUIRE(freqs.inv_freq.scalar_type() == torch::kFloat32);
  REQUIRE(freqs.inv_freq.sizes() == hf_inv_freq.sizes());
  // Relative: inv_freq spans many decades. The same float32 operations as HF give the same bits.
  const double inv_freq_err = (freqs.inv_freq.to(torch::kFloat64) / hf_inv_freq.to(torch::kFloat64) - 1).abs().max().item<double>();
  CAPTURE(inv_freq_err);
  CHECK(inv_freq_err <= 1e-6);
  CHECK(freqs.attention_scaling == Approx(hf["attention_scaling"].get<double>()).epsilon(1e-12));

  const auto positions = torch::tensor(spec.positions, torch::kInt64);
  const auto tables = ctxext::compute_rope_tables(spec.options, spec.head_dim, positions, seq_len);
  const auto hf_cos = to_tensor(hf["cos"]);
  const auto hf_sin = to_tensor(hf["sin"]);
  REQUIRE(tables.cos.sizes() == hf_cos.sizes());
  REQUIRE(tables.sin.sizes() == hf_sin.sizes());
  const double cos_err = max_abs_diff(tables.cos, hf_cos);
  const double sin_err = max_abs_diff(tables.sin, hf_sin);
  CAPTURE(cos_err, sin_err);
  // Same float32 angles; cos/sin themselves may differ by an ulp between vectorised and scalar paths.
  CHECK(cos_err <= 2e-6);
  CHECK(sin_err <= 2e-6);
}

}  // namespace

TEST_CASE("none matches HF default RoPE", "[rope][hf]") { check_against_hf("none"); }

TEST_CASE("none with a changed rope_theta matches HF default RoPE", "[rope][hf]") {
  check_against_hf("none_theta_1e6");
}

TEST_CASE("pi matches HF linear", "[rope][hf]") { check_against_hf("pi"); }

TEST_CASE("dynamic_ntk matches HF dynamic at 4x the original context", "[rope][hf]") {
  check_against_hf("dynamic_ntk_beyond");
}

TEST_CASE("dynamic_ntk matches HF dynamic one position beyond the original context", "[rope][hf]") {
  check_against_hf("dynamic_ntk_just_beyond");
}

TEST_CASE("dynamic_ntk matches HF dynamic at exactly the original context", "[rope][hf]") {
  check_against_hf("dynamic_ntk_at_original");
}

TEST_CASE("dynamic_ntk matches HF dynamic below the original context", "[rope][hf]") {
  check_against_hf("dynamic_ntk_below");
}

TEST_CASE("yarn matches HF yarn with default settings", "[rope][hf]") { check_against_hf("yarn"); }

TEST_CASE("yarn matches HF yarn with non-default betas and mscale/mscale_all_dim", "[rope][hf]") {
  check_against_hf("yarn_betas_mscale");
}

TEST_CASE("yarn matches HF yarn with attention_factor and truncate=false", "[rope][hf]") {
  check_against_hf("yarn_attention_factor_no_truncate");
}

TEST_CASE("llama3 matches HF llama3", "[rope][hf]") { check_against_hf("llama3"); }

TEST_CASE("abf matches HF default RoPE with rope_theta = abf_theta", "[rope][hf]") { check_against_hf("abf"); }

TEST_CASE("eabf frequencies match HF default RoPE with rope_theta = abf_theta", "[rope][hf]") {
  check_against_hf("eabf");
}
