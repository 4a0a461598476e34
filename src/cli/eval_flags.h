// The flags every `ctxext eval` subcommand shares (--model, --device, --dtype, --threads) and the
// model load they describe, so ppl, passkey, ppl-sweep, entropy and longbench read them one way.
#pragma once
#include <CLI/CLI.hpp>
#include <torch/types.h>

#include <string>

#include "cli/commands.h"
#include "data/tokenizer.h"
#include "model/llama_model.h"
#include "rope/rope_options.h"

namespace ctxext::cli {

struct EvalModelFlags {
  std::string model;
  std::string device = "cpu";
  std::string dtype = "float32";
  int threads = 0;
};

void add_eval_model_flags(CLI::App& cmd, EvalModelFlags& flags);

// --device: cpu, cuda or cuda:N. Fails naming the flag for another spelling, for CUDA on a machine
// without it, and for an index past the last GPU.
torch::Device parse_eval_device(const std::string& device);

// MODEL/config.json with the command's --rope-type/--factor/--rope applied to its RoPE method. Fails
// when the folder has no config.json.
model::LlamaConfig eval_model_config(const EvalModelFlags& flags, const RopeFlags& rope_flags);

// The sentencepiece model of --tokenizer (empty: MODEL/tokenizer.model). Fails naming the file when
// it is missing, and both sizes when it has more pieces than the model's vocab_size (its ids would
// index past the embedding), before any weight is loaded.
data::Tokenizer load_eval_tokenizer(const EvalModelFlags& flags, const std::string& tokenizer_flag,
                                    int64_t vocab_size);

// Sets the thread count, checks --dtype and --device, then loads MODEL with `rope` in that dtype
// onto that device.
model::LlamaForCausalLM load_eval_model(const EvalModelFlags& flags, const rope::RopeOptions& rope);

}  // namespace ctxext::cli
