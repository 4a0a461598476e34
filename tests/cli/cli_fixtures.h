// Shared by the CLI tests: a small random HF model folder written with ctxext's exporter.
#pragma once
#include <torch/types.h>

#include <filesystem>
#include <string>
#include <vector>

#include "model/llama_config.h"

namespace ctxext::testing {

// vocab 4000 (data/tokenizer.model's), hidden 64, 4 heads (2 kv), 2 layers, L0 = 64; yarn-free plain RoPE.
model::LlamaConfig cli_model_config();

// Writes a random model (seeded, std 0.15) with cli_model_config() to `folder`.
void write_cli_model(const std::filesystem::path& folder, uint64_t seed = 17);

// `n` token ids in [0, vocab), seeded, as the JSON array `eval ppl --tokens` reads.
std::vector<int64_t> cli_tokens(int64_t n, uint64_t seed = 3);
std::string tokens_json(const std::vector<int64_t>& ids);

// max |a - b| in float64; NaN fails the test.
double max_abs_diff(const torch::Tensor& a, const torch::Tensor& b);

// The output's message lines: all but log lines ("[12:00:00] info ..."). The CLI contract for a bad
// input is exactly one, naming what is wrong ("error: ..." from ctxext and from its flag parser).
std::vector<std::string> error_lines(const std::string& output);

// Runs ctxext with `args` and checks the contract for a bad input: exit code 2, no signal, exactly
// one message line, containing each of `mentions`.
void check_rejected(const std::vector<std::string>& args, const std::vector<std::string>& mentions);

}  // namespace ctxext::testing
