#include "cli_fixtures.h"

#include <ATen/CPUGeneratorImpl.h>
#include <catch2/catch.hpp>
#include <torch/torch.h>

#include <sstream>

#include "model/hf_checkpoint.h"
#include "model/llama_init.h"
#include "support/small_llama_config.h"
#include "support/test_support.h"

namespace ctxext::testing {

model::LlamaConfig cli_model_config() { return small_llama_config(4000, 64, 96, 2, 64); }

void write_cli_model(const std::filesystem::path& folder, uint64_t seed) {
  auto model = model::make_random_llama(cli_model_config(), seed, torch::kFloat32, 0.15);
  model::export_hf_checkpoint(model::model_tensors(*model), cli_model_config(), folder);
}

std::vector<int64_t> cli_tokens(int64_t n, uint64_t seed) {
  auto generator = at::make_generator<at::CPUGeneratorImpl>(seed);
  const auto t = torch::randint(cli_model_config().vocab_size, {n}, generator, torch::kInt64);
  return std::vector<int64_t>(t.data_ptr<int64_t>(), t.data_ptr<int64_t>() + n);
}

std::string tokens_json(const std::vector<int64_t>& ids) {
  std::string s = "[";
  for (size_t i = 0; i < ids.size(); ++i) s += (i ? "," : "") + std::to_string(ids[i]);
  return s + "]";
}

double max_abs_diff(const torch::Tensor& a, const torch::Tensor& b) {
  REQUIRE(a.sizes() == b.sizes());
  const auto d = (a.to(torch::kFloat64) - b.to(torch::kFloat64)).abs();
  REQUIRE_FALSE(torch::isnan(d).any().item<bool>());
  return d.max().item<double>();
}

std::vector<std::string> error_lines(const std::string& output) {
  std::vector<std::string> lines;
  std::istringstream in(output);
  for (std::string line; std::getline(in, line);) {
    const bool log_line = line.size() > 10 && line[0] == '[' && line[3] == ':' && line[9] == ']';
    if (line.empty() || log_line) continue;
    lines.push_back(line);
  }
  return lines;
}

void check_rejected(const std::vector<std::string>& args, const std::vector<std::string>& mentions) {
  const auto r = run_ctxext(args);
  INFO(r.output);
  CHECK(r.exit_code == 2);
  CHECK(r.signal == 0);
  const auto errors = error_lines(r.output);
  REQUIRE(errors.size() == 1);
  for (const auto& m : mentions) CHECK_THAT(errors[0], Catch::Matchers::Contains(m));
}

}  // namespace ctxext::testing
