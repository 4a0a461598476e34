// The tensors of an HF checkpoint folder: model.safetensors, or shards model-0000k-of-0000n.safetensors
// listed in model.safetensors.index.json.
#pragma once
#include <torch/types.h>

#include <cstdint>
#include <filesystem>
#include <map>
#include <string>

namespace ctxext::io {

// Reads all tensors of the folder (model.safetensors wins when both layouts are present). The
// index's shard names must be plain file names in the folder; every tensor must be in the shard
// the index names and every shard tensor in the index; names unique across shards.
std::map<std::string, torch::Tensor> read_checkpoint_tensors(const std::filesystem::path& folder);

// Writes model.safetensors, or shards + index when the total exceeds max_shard_bytes, split like
// huggingface_hub (in name order; a new shard when the next tensor would overflow; an oversized
// tensor alone). Every file carries {"format": "pt"} metadata, which transformers checks. The folder
// must exist (callers write into an AtomicFolder).
void write_checkpoint_tensors(const std::filesystem::path& folder, const std::map<std::string, torch::Tensor>& tensors,
                              int64_t max_shard_bytes = int64_t(5) << 30);

}  // namespace ctxext::io
