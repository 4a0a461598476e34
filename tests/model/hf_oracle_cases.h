// The HF-transformers parity cases of tests/model: tiny random LLaMA configs, one per RoPE method
// HF knows (plus EABF, re-derived with hooks on HF's ABF model) and the load direction (folders
// written by HF's save_pretrained). All run through ONE oracle process (tests/oracle/hf_llama_oracle.py);
// its results are cached on disk under the temp dir, keyed by a hash of every input byte, so
// ctest's one-process-per-test runs share one oracle run.
#pragma once
#include <nlohmann/json.hpp>
#include <torch/types.h>

#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "model/llama_config.h"

namespace ctxext::testing {

struct ParityCase {
  std::string name;
  model::LlamaConfig config;
  std::string attn = "eager";
  // Replaces the exported config.json (older transformers dialects); the C++ side must read the same.
  std::optional<nlohmann::json> config_override;
  bool query_scale = false;  // eabf: the oracle adds the query scale to HF's ABF model
  int64_t seq_len = 96;      // > max_position_embeddings (64) of every case but longrope_short
};

struct SaveCase {
  std::string name;
  nlohmann::json hf_config;  // LlamaConfig kwargs
  std::string dtype;         // "float32" | "bfloat16"
  std::optional<std::string> max_shard_size;
};

// The shared tiny config: vocab 101, hidden 64, 4 heads of 16, intermediate 96, 2 layers, L0 = 64.
model::LlamaConfig tiny_config();
const std::vector<ParityCase>& parity_cases();
const std::vector<SaveCase>& save_cases();

// Seeded weights (std 0.15, so attention is peaked enough for RoPE to matter) and token batches.
constexpr uint64_t kWeightSeed = 1234;
constexpr double kInitStd = 0.15;
torch::Tensor parity_tokens(const model::LlamaConfig& config, int64_t seq_len, uint64_t seed);  // [2, seq_len]
const std::vector<std::string>& grad_names();

struct OracleResults {
  std::filesystem::path dir;  // <case>.safetensors per run/save case, save cases' HF folders
  std::filesystem::path output(const std::string& case_name) const { return dir / (case_name + ".safetensors"); }
  std::filesystem::path saved_folder(const std::string& case_name) const { return dir / ("hf_" + case_name); }
};

// Exports every parity case with ctxext's exporter, runs the oracle once (or finds its cached
// results) and returns where they are.
const OracleResults& oracle_results();

// All elements of t as int64, row-major.
std::vector<int64_t> int64_values(const torch::Tensor& t);

double max_abs_diff(const torch::Tensor& a, const torch::Tensor& b);

}  // namespace ctxext::testing
