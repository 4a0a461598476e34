// HF checkpoint folders: config.json + safetensors (single or sharded) + tokenizer files.
// Every tensor is checked against config.json before use; names are HF's state_dict names.
#pragma once
#include <torch/types.h>

#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "model/llama_config.h"
#include "model/llama_model.h"

namespace ctxext::model {

// Name -> shape of every tensor a checkpoint of `config` holds ("lm_head.weight" absent when tied).
std::map<std::string, std::vector<int64_t>> expected_tensor_shapes(const LlamaConfig& config);

// Throws ctxext::Error naming `origin`, the tensor, the expected and the found shape (or dtype) for
// the first missing, unexpected, mis-shaped or non-float (F32/F16/BF16) tensor. The rotary
// `inv_freq` buffers old HF checkpoints carry are recomputed from config.json, so they are ignored.
void validate_checkpoint_tensors(const std::map<std::string, torch::Tensor>& tensors, const LlamaConfig& config,
                                 const std::string& origin);

// The one dtype of a checkpoint's weights; fails naming `origin` when they mix dtypes.
torch::Dtype checkpoint_dtype(const std::map<std::string, torch::Tensor>& tensors, const std::string& origin);

struct HfCheckpoint {
  LlamaConfig config;
  std::map<std::string, torch::Tensor> tensors;  // views of the memory-mapped files, validated
};

// Reads <folder>/config.json and the folder's tensors, validated against each other.
HfCheckpoint read_hf_checkpoint(const std::filesystem::path& folder);

// A model on the CPU in `dtype` with the checkpoint's weights. `rope` replaces the RoPE options of
// config.json (evaluate or fine-tune with another method than the checkpoint's).
LlamaForCausalLM load_hf_model(const std::filesystem::path& folder, torch::Dtype dtype = torch::kFloat32,
                               const std::optional<rope::RopeOptions>& rope = std::nullopt);

// Copies checkpoint tensors into the model's parameters of the same names (converting dtype).
void copy_tensors_into(LlamaForCausalLMImpl& model, const std::map<std::string, torch::Tensor>& tensors,
                       const std::string& origin);

// The model's parameters under HF names, detached, on the CPU.
std::map<std::string, torch::Tensor> model_tensors(LlamaForCausalLMImpl& model);

struct ExportOptions {
  // Folder to copy tokenizer.model, tokenizer.json, tokenizer_config.json, special_tokens_map.json
  // and generation_config.json from, where present (empty: none).
  std::filesystem::path tokenizer_source;
  int64_t max_shard_bytes = int64_t(5) << 30;
  // Non-empty: written as ctxext_training.json (how a trained folder was made; recipes/training_record.h).
  std::string training_record;
};

// Writes an HF folder at `out` atomically (complete or absent): config.json describing `config`
// (its RoPE method included) and the tensors, in their dtype.
void export_hf_checkpoint(const std::map<std::string, torch::Tensor>& tensors, const LlamaConfig& config,
                          const std::filesystem::path& out, const ExportOptions& options = {});

}  // namespace ctxext::model
