// The tensors of an HF checkpoint folder: model.safetensors, or shards model-0000k-of-0000n.safetensors
// listed in model.safetensors.index.json.
#pragma once
#include <torch/types.h>

#include <cstdint>
#include <filesystem>
#include <map>
#include <string>

namespace ctxext {

// Reads all tensors of the folder. The index's shard names must be plain file names in the
// folder; every tensor must be in the shard the index names; names unique across shards.
std::map<std::string, torch::Tensor> read_checkpoint_tensors(const std::filesystem::path& folder);

// Writes model.safetensors, or shards + index when the total exceeds max_shard_bytes. The folder
// must exist (callers write into an AtomicFolder).
void write_checkpoint_tensors(const std::filesystem::path& folder, const std::map<std::string, torch::Tensor>& tensors,
                              int64_t max_shard_bytes = int64_t(5) << 30);

}  // namespace ctxext
