// HF checkpoint folders: one model.safetensors, or shards listed by model.safetensors.index.json
// {"metadata": {"total_size": N}, "weight_map": {tensor: shard file}}.
#include "io/checkpoint_tensors.h"

#include <set>
#include <vector>

#include "core/error.h"
#include "core/text_file.h"
#include "core/file_kind.h"
#include "core/log.h"
#include "io/atomic_folder.h"
#include "io/safetensors.h"
#include "io/strict_json.h"

namespace ctxext::io {
namespace fs = std::filesystem;
namespace {

constexpr const char* kSingleFile = "model.safetensors";
constexpr const char* kIndexFile = "model.safetensors.index.json";

// transformers checks this metadata key when loading ("pt", "tf", "flax" or "mlx").
const std::map<std::string, std::string> kShardMetadata{{"format", "pt"}};

// A shard name from the index must name a file inside the folder, nothing else.
void check_plain_file_name(const fs::path& index, const std::string& tensor, const std::string& shard) {
  if (shard.empty() || shard == "." || shard == ".." || shard.find('/') != std::string::npos ||
      shard.find('\\') != std::string::npos || shard.find('\0') != std::string::npos)
    fail("{}: tensor '{}' names shard '{}', which is not a plain file name in the checkpoint folder", index.string(),
         tensor, shard);
}

// weight_map: tensor name -> shard file name.
std::map<std::string, std::string> read_weight_map(const fs::path& index) {
  const std::string text = read_text_file(index, "checkpoint index");
  if (!is_valid_utf8(text)) fail("{}: not valid UTF-8", index.string());
  const auto root = parse_strict_json(text, index.string());
  if (!root.is_object() || !root.contains("weight_map") || !root["weight_map"].is_object())
    fail("{}: expected a JSON object with a 'weight_map' object", index.string());
  std::map<std::string, std::string> weight_map;
  for (const auto& [tensor, shard] : root["weight_map"].items()) {
    if (!shard.is_string()) fail("{}: weight_map['{}'] is {}, not a file name", index.string(), tensor, json_excerpt(shard));
    check_plain_file_name(index, tensor, shard.get<std::string>());
    weight_map[tensor] = shard.get<std::string>();
  }
  if (weight_map.empty()) fail("{}: weight_map is empty", index.string());
  return weight_map;
}

std::map<std::string, torch::Tensor> read_sharded(const fs::path& folder) {
  const fs::path index = folder / kIndexFile;
  const auto weight_map = read_weight_map(index);
  std::set<std::string> shards;
  for (const auto& [tensor, shard] : weight_map) shards.insert(shard);

  std::map<std::string, torch::Tensor> out;
  std::map<std::string, std::string> found_in;  // tensor -> shard it was read from
  for (const auto& shard : shards) {
    const fs::path file = folder / shard;
    if (!fs::is_regular_file(file)) fail("{}: shard '{}' listed in the index {}", index.string(), shard, file_kind(file));
    for (auto& [name, tensor] : read_safetensors(file).tensors) {
      if (auto it = found_in.find(name); it != found_in.end())
        fail("{}: tensor '{}' is in two shards: '{}' and '{}'", index.string(), name, it->second, shard);
      const auto listed = weight_map.find(name);
      if (listed == weight_map.end())
        fail("{}: tensor '{}' in shard '{}' is not listed in the weight_map", index.string(), name, shard);
      if (listed->second != shard)
        fail("{}: tensor '{}' is in shard '{}' but the index names '{}'", index.string(), name, shard, listed->second);
      found_in[name] = shard;
      out.emplace(name, std::move(tensor));
    }
  }
  for (const auto& [tensor, shard] : weight_map)
    if (!found_in.count(tensor))
      fail("{}: tensor '{}' is not in shard '{}' where the index places it", index.string(), tensor, shard);
  return out;
}

// HF's split (huggingface_hub `split_state_dict_into_shards_factory`): in order, start a new shard
// when the next tensor would push the current one past the limit; a tensor larger than the limit
// gets a shard of its own.
std::vector<std::vector<std::string>> plan_shards(const std::map<std::string, torch::Tensor>& tensors,
                                                  int64_t max_shard_bytes) {
  std::vector<std::vector<std::string>> shards;
  std::vector<std::string> current;
  int64_t current_bytes = 0;
  for (const auto& [name, tensor] : tensors) {
    const int64_t bytes = int64_t(tensor.nbytes());
    if (bytes > max_shard_bytes) {
      shards.push_back({name});
      continue;
    }
    if (current_bytes + bytes > max_shard_bytes) {
      shards.push_back(std::move(current));
      current.clear();
      current_bytes = 0;
    }
    current.push_back(name);
    current_bytes += bytes;
  }
  if (!current.empty()) shards.push_back(std::move(current));
  return shards;
}

}  // namespace

std::map<std::string, torch::Tensor> read_checkpoint_tensors(const fs::path& folder) {
  if (fs::is_regular_file(folder / kSingleFile)) return read_safetensors(folder / kSingleFile).tensors;
  if (fs::is_regular_file(folder / kIndexFile)) return read_sharded(folder);
  for (const char* name : {kSingleFile, kIndexFile})  // there, but a symlink to a device, a FIFO, a folder
    if (fs::exists(fs::symlink_status(folder / name))) fail("{}: {} {}", folder.string(), name, file_kind(folder / name));
  fail("{}: no {} or {} in the checkpoint folder", folder.string(), kSingleFile, kIndexFile);
}

void write_checkpoint_tensors(const fs::path& folder, const std::map<std::string, torch::Tensor>& tensors,
                              int64_t max_shard_bytes) {
  if (max_shard_bytes <= 0) fail("{}: max_shard_bytes must be positive, got {}", folder.string(), max_shard_bytes);
  const auto shards = plan_shards(tensors, max_shard_bytes);
  if (shards.size() <= 1) {
    write_safetensors(folder / kSingleFile, tensors, kShardMetadata);
    return;
  }
  nlohmann::json weight_map = nlohmann::json::object();
  int64_t total_size = 0;
  for (size_t i = 0; i < shards.size(); ++i) {
    const auto shard_name = fmt::format("model-{:05d}-of-{:05d}.safetensors", i + 1, shards.size());
    std::map<std::string, torch::Tensor> shard;
    for (const auto& name : shards[i]) {
      shard.emplace(name, tensors.at(name));
      weight_map[name] = shard_name;
      total_size += int64_t(tensors.at(name).nbytes());
    }
    write_safetensors(folder / shard_name, shard, kShardMetadata);
  }
  const nlohmann::json index{{"metadata", {{"total_size", total_size}}}, {"weight_map", weight_map}};
  write_file_atomic(folder / kIndexFile, index.dump(2) + "\n");  // HF: json.dumps(indent=2, sort_keys=True)
  log::info("wrote {} tensors ({} bytes) in {} shards to {}", tensors.size(), total_size, shards.size(),
            folder.string());
}

}  // namespace ctxext::io
