#include "hf_oracle_cases.h"

#include <ATen/CPUGeneratorImpl.h>
#include <catch2/catch.hpp>
#include <torch/torch.h>

#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <functional>

#include "ctxext/build_info.h"
#include "model/hf_checkpoint.h"
#include "model/llama_init.h"
#include "support/small_llama_config.h"
#include "support/test_support.h"

namespace ctxext::testing {

model::LlamaConfig tiny_config() { return small_llama_config(101, 64, 96, 4, 64); }  // rope theta 10,000

namespace {

ParityCase method_case(const std::string& name, const std::function<void(rope::RopeOptions&)>& set) {
  ParityCase p{name, tiny_config()};
  set(p.config.rope);
  return p;
}

}  // namespace

const std::vector<ParityCase>& parity_cases() {
  static const std::vector<ParityCase> cases = [] {
    std::vector<ParityCase> v;
    v.push_back(method_case("default", [](rope::RopeOptions&) {}));
    {
      ParityCase p = method_case("default_theta_gqa_head_dim", [](rope::RopeOptions& r) { r.theta = 500.0; });
      p.config.num_key_value_heads = 2;
      p.config.head_dim = 32;  // != hidden / heads: HF's explicit head_dim
      v.push_back(p);
    }
    {
      ParityCase p = method_case("mqa_tied_sdpa", [](rope::RopeOptions&) {});
      p.config.num_key_value_heads = 1;
      p.config.tie_word_embeddings = true;
      p.attn = "sdpa";
      v.push_back(p);
    }
    v.push_back(method_case("linear", [](rope::RopeOptions& r) { r.type = "pi"; r.factor = 2.0; }));
    v.push_back(method_case("dynamic", [](rope::RopeOptions& r) { r.type = "dynamic_ntk"; r.factor = 2.0; }));
    v.push_back(method_case("yarn", [](rope::RopeOptions& r) { r.type = "yarn"; r.factor = 4.0; }));
    v.push_back(method_case("yarn_betas_mscale", [](rope::RopeOptions& r) {
      r.type = "yarn";
      r.factor = 4.0;
      r.beta_fast = 16.0;
      r.beta_slow = 2.0;
      r.mscale = 1.2;
      r.mscale_all_dim = 0.8;
      r.truncate = false;
    }));
    v.push_back(method_case("yarn_attention_factor", [](rope::RopeOptions& r) {
      r.type = "yarn";
      r.factor = 3.0;
      r.attention_factor = 1.3;
    }));
    v.push_back(method_case("llama3", [](rope::RopeOptions& r) {
      r.type = "llama3";
      r.factor = 4.0;
      r.low_freq_factor = 1.0;
      r.high_freq_factor = 4.0;
    }));
    v.push_back(method_case("abf", [](rope::RopeOptions& r) { r.type = "abf"; r.abf_theta = 1e6; }));
    v.push_back(method_case("ntk", [](rope::RopeOptions& r) { r.type = "ntk"; r.ntk_alpha = 4.0; }));
    {
      ParityCase p = method_case("eabf", [](rope::RopeOptions& r) {
        r.type = "eabf";
        r.abf_theta = 1e6;
        r.eabf_context = 16.0;  // small, so the scale exceeds 1 within the sequence
        r.eabf_skip_layers = 1;
      });
      p.query_scale = true;
      v.push_back(p);
    }
    v.push_back(method_case("ntk_by_parts", [](rope::RopeOptions& r) {
      r.type = "ntk_by_parts";
      r.factor = 4.0;
      r.beta_fast = 16.0;
    }));
    for (const int64_t seq_len : {int64_t{48}, int64_t{96}}) {
      // L0 = 64: 48 tokens use short_factor, 96 long_factor.
      ParityCase p = method_case(seq_len <= 64 ? "longrope_short" : "longrope_long", [](rope::RopeOptions& r) {
        r.type = "longrope";
        r.factor = 4.0;
        for (int i = 0; i < 8; ++i) {  // head_dim 16
          r.short_factor.push_back(1.0 + 0.1 * i);
          r.long_factor.push_back(2.0 + 1.5 * i);
        }
      });
      p.seq_len = seq_len;
      v.push_back(p);
    }
    {
      // transformers < 4.43: rope_scaling {"type": ...} + top-level rope_theta.
      ParityCase p = method_case("legacy_type_linear", [](rope::RopeOptions& r) {
        r.type = "pi";
        r.factor = 2.0;
        r.theta = 20000.0;
      });
      p.config_override = nlohmann::json{{"rope_scaling", {{"type", "linear"}, {"factor", 2.0}}}, {"rope_theta", 20000.0}};
      v.push_back(p);
    }
    {
      // transformers 4.43-4.57: rope_scaling {"rope_type": ...} + top-level rope_theta.
      ParityCase p = method_case("legacy_rope_type_dynamic", [](rope::RopeOptions& r) {
        r.type = "dynamic_ntk";
        r.factor = 3.0;
        r.theta = 20000.0;
      });
      p.config_override =
          nlohmann::json{{"rope_scaling", {{"rope_type", "dynamic"}, {"factor", 3.0}}}, {"rope_theta", 20000.0}};
      v.push_back(p);
    }
    return v;
  }();
  return cases;
}

const std::vector<SaveCase>& save_cases() {
  static const std::vector<SaveCase> cases = [] {
    const nlohmann::json base = {
        {"vocab_size", 101},       {"hidden_size", 64},
        {"intermediate_size", 96}, {"num_hidden_layers", 2},
        {"num_attention_heads", 4}, {"num_key_value_heads", 2},
        {"max_position_embeddings", 64}, {"rms_norm_eps", 1e-5},
        {"initializer_range", 0.15},
    };
    auto yarn = base;
    yarn["rope_parameters"] = {{"rope_type", "yarn"}, {"factor", 2.0}, {"original_max_position_embeddings", 64},
                               {"rope_theta", 10000.0}};
    auto llama3 = base;
    llama3["rope_parameters"] = {{"rope_type", "llama3"}, {"factor", 4.0}, {"original_max_position_embeddings", 32},
                                 {"low_freq_factor", 1.0}, {"high_freq_factor", 4.0}, {"rope_theta", 50000.0}};
    return std::vector<SaveCase>{{"saved_f32_yarn", yarn, "float32", std::nullopt},
                                 {"saved_bf16_sharded_llama3", llama3, "bfloat16", std::string("20KB")}};
  }();
  return cases;
}

torch::Tensor parity_tokens(const model::LlamaConfig& config, int64_t seq_len, uint64_t seed) {
  auto generator = at::make_generator<at::CPUGeneratorImpl>(seed);
  return torch::randint(config.vocab_size, {2, seq_len}, generator, torch::kInt64);
}

const std::vector<std::string>& grad_names() {
  static const std::vector<std::string> names = {
      "model.embed_tokens.weight", "model.layers.0.self_attn.q_proj.weight", "model.layers.1.self_attn.k_proj.weight",
      "model.layers.0.mlp.down_proj.weight", "model.norm.weight"};
  return names;
}

std::vector<int64_t> int64_values(const torch::Tensor& t) {
  const auto flat = t.to(torch::kInt64).contiguous().view({-1});
  return std::vector<int64_t>(flat.data_ptr<int64_t>(), flat.data_ptr<int64_t>() + flat.numel());
}

double max_abs_diff(const torch::Tensor& a, const torch::Tensor& b) {
  REQUIRE(a.sizes() == b.sizes());
  const auto d = (a.to(torch::kFloat64) - b.to(torch::kFloat64)).abs();
  REQUIRE_FALSE(torch::isnan(d).any().item<bool>());
  return d.max().item<double>();
}

namespace {

std::string file_bytes(const fs::path& path) { return read_text(path); }

// Every byte the oracle sees: its script, the job list (without paths) and the exported folders.
size_t inputs_hash(const nlohmann::json& jobs, const std::vector<fs::path>& folders) {
  std::string all = file_bytes(fs::path(CTXEXT_SOURCE_DIR) / "tests/oracle/hf_llama_oracle.py") + jobs.dump();
  for (const auto& folder : folders) {
    std::vector<fs::path> files;
    for (const auto& entry : fs::directory_iterator(folder)) files.push_back(entry.path());
    std::sort(files.begin(), files.end());
    for (const auto& f : files) all += f.filename().string() + file_bytes(f);
  }
  return std::hash<std::string>{}(all);
}

OracleResults compute_oracle_results() {
  TempDir inputs;
  nlohmann::json jobs = nlohmann::json::array();
  std::vector<fs::path> folders;
  for (const auto& c : parity_cases()) {
    auto model = model::make_random_llama(c.config, kWeightSeed, torch::kFloat32, kInitStd);
    const auto folder = inputs / c.name;
    model::export_hf_checkpoint(model::model_tensors(*model), c.config, folder);
    if (c.config_override) {
      auto config = nlohmann::json::parse(read_text(folder / "config.json"));
      for (const char* key : {"rope_parameters", "rope_scaling", "rope_theta", "ctxext_rope"}) config.erase(key);
      config.update(*c.config_override);
      write_text(folder / "config.json", config.dump(2));
    }
    folders.push_back(folder);
    nlohmann::json job = {{"mode", "run"},
                          {"name", c.name},
                          {"tokens", int64_values(parity_tokens(c.config, c.seq_len, kWeightSeed + 1))},
                          {"seq_len", c.seq_len},
                          {"grads", grad_names()},
                          {"attn", c.attn}};
    if (c.query_scale)
      job["query_scale"] = {{"context", c.config.rope.query_scale_context()},
                            {"skip_layers", c.config.rope.eabf_skip_layers}};
    jobs.push_back(job);
  }
  for (const auto& s : save_cases()) {
    const auto tokens = parity_tokens(tiny_config(), 96, kWeightSeed + 2);
    nlohmann::json job = {{"mode", "save"}, {"name", s.name}, {"config", s.hf_config}, {"seed", 7},
                          {"dtype", s.dtype}, {"tokens", int64_values(tokens)}, {"seq_len", 96}};
    if (s.max_shard_size) job["max_shard_size"] = *s.max_shard_size;
    jobs.push_back(job);
  }

  OracleResults results;
  results.dir = fs::temp_directory_path() / fmt::format("ctxext-hf-oracle-{:016x}", inputs_hash(jobs, folders));
  if (fs::exists(results.dir / "DONE")) return results;

  // Paths and the [b, s] token layout are added only now: they must not enter the cache key.
  const auto work = fs::path(results.dir.string() + fmt::format(".tmp-{}", ::getpid()));
  fs::remove_all(work);
  fs::create_directories(work);
  for (auto& job : jobs) {
    const std::string name = job["name"];
    const int64_t s = job["seq_len"];
    const auto flat = job["tokens"].get<std::vector<int64_t>>();
    job["tokens"] = {std::vector<int64_t>(flat.begin(), flat.begin() + s), std::vector<int64_t>(flat.begin() + s, flat.end())};
    job["out"] = (work / (name + ".safetensors")).string();
    job["folder"] = job["mode"] == "run" ? (inputs / name).string() : (work / ("hf_" + name)).string();
  }
  write_text(work / "jobs.json", jobs.dump());
  run_oracle("hf_llama_oracle.py", {(work / "jobs.json").string()});
  write_text(work / "DONE", "");
  std::error_code ec;
  fs::rename(work, results.dir, ec);  // a concurrent test process may have won the race: its copy is equal
  if (ec) fs::remove_all(work);
  return results;
}

}  // namespace

const OracleResults& oracle_results() {
  static const OracleResults results = compute_oracle_results();
  return results;
}

}  // namespace ctxext::testing
