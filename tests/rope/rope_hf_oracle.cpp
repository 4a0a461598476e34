#include "rope_hf_oracle.h"

#include <catch2/catch.hpp>
#include <torch/torch.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>

#include "ctxext/build_info.h"
#include "rope/rope_method.h"
#include "rope/rope_tables.h"
#include "support/test_support.h"

namespace ctxext::testing {

using nlohmann::json;
namespace fs = std::filesystem;
namespace t = ctxext::testing;

namespace {

uint64_t fnv1a(const std::string& text) {
  uint64_t h = 1469598103934665603ull;
  for (unsigned char c : text) h = (h ^ c) * 1099511628211ull;
  return h;
}

// name -> HF result, from the cache or one oracle call.
std::map<std::string, json> hf_results(const ParitySpecs& specs) {
  json spec_list = json::array();
  for (const auto& [name, s] : specs)
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


}  // namespace

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

rope::RopeOptions make_options(const std::string& type, double theta, double factor, int64_t l0) {
  rope::RopeOptions o;
  o.type = type;
  o.theta = theta;
  o.factor = factor;
  o.original_max_position_embeddings = l0;
  return o;
}

void check_against_hf(const ParitySpecs& specs, const std::string& name) {
  static std::map<const ParitySpecs*, std::map<std::string, json>> answers;
  if (!answers.count(&specs)) answers[&specs] = hf_results(specs);
  const auto& spec = specs.at(name);
  const auto& hf = answers.at(&specs).at(name);
  const int64_t seq_len = *std::max_element(spec.positions.begin(), spec.positions.end()) + 1;
  INFO("spec " << name << ", seq_len " << seq_len);

  const auto freqs = rope::compute_rope_frequencies(spec.options, spec.head_dim, seq_len);
  const auto hf_inv_freq = to_tensor(hf["inv_freq"]).flatten();
  REQUIRE(freqs.inv_freq.scalar_type() == torch::kFloat32);
  REQUIRE(freqs.inv_freq.sizes() == hf_inv_freq.sizes());
  // Relative: inv_freq spans many decades. The same float32 operations as HF give the same bits.
  const double inv_freq_err = (freqs.inv_freq.to(torch::kFloat64) / hf_inv_freq.to(torch::kFloat64) - 1).abs().max().item<double>();
  CAPTURE(inv_freq_err);
  CHECK(inv_freq_err <= 1e-6);
  CHECK(freqs.attention_scaling == Approx(hf["attention_scaling"].get<double>()).epsilon(1e-12));

  const auto positions = torch::tensor(spec.positions, torch::kInt64);
  const auto tables = rope::compute_rope_tables(spec.options, spec.head_dim, positions, seq_len);
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

}  // namespace ctxext::testing
