// write_safetensors: the reference writer's layout byte for byte (huggingface/safetensors,
// safetensors/src/tensor.rs `prepare`): data ordered by dtype (widest first) then name, compact JSON
// header listing "__metadata__" first and the tensors in data order, padded with spaces to 8 bytes.
// Metadata keys are sorted (the reference's HashMap order is arbitrary), so output is deterministic.
#include <algorithm>
#include <vector>

#include "core/error.h"
#include "io/atomic_folder.h"
#include "io/safetensors.h"
#include "io/safetensors_dtype.h"

#include <nlohmann/json.hpp>

namespace ctxext::io {
namespace {

struct Item {
  const std::string* name;
  const SafetensorsDtype* dtype;
  torch::Tensor data;  // contiguous, on CPU
};

// A JSON string literal; names are UTF-8 (nlohmann throws on anything else).
std::string quoted(const std::filesystem::path& file, const std::string& text) {
  try {
    return nlohmann::json(text).dump();
  } catch (const nlohmann::json::exception&) {
    fail("{}: name or metadata '{}' is not valid UTF-8", file.string(), text);
  }
}

std::string build_header(const std::filesystem::path& file, const std::vector<Item>& items,
                         const std::map<std::string, std::string>& metadata) {
  std::string h = "{";
  if (!metadata.empty()) {
    h += "\"__metadata__\":{";
    for (const auto& [key, value] : metadata) h += quoted(file, key) + ":" + quoted(file, value) + ",";
    h.back() = '}';
    h += ",";
  }
  uint64_t offset = 0;
  for (const auto& item : items) {
    const auto bytes = uint64_t(item.data.nbytes());
    h += fmt::format("{}:{{\"dtype\":\"{}\",\"shape\":[{}],\"data_offsets\":[{},{}]}},", quoted(file, *item.name),
                     item.dtype->name, fmt::join(item.data.sizes(), ","), offset, offset + bytes);
    offset += bytes;
  }
  if (h.back() == ',') h.pop_back();
  h += "}";
  h.append((8 - h.size() % 8) % 8, ' ');  // data starts 8-byte aligned
  return h;
}

}  // namespace

void write_safetensors(const std::filesystem::path& file, const std::map<std::string, torch::Tensor>& tensors,
                       const std::map<std::string, std::string>& metadata) {
  std::vector<Item> items;
  for (const auto& [name, tensor] : tensors) {
    if (name == "__metadata__") fail("{}: '__metadata__' is reserved and cannot name a tensor", file.string());
    if (!tensor.defined()) fail("{}: tensor '{}' is undefined", file.string(), name);
    if (tensor.layout() != torch::kStrided) fail("{}: tensor '{}' is not dense", file.string(), name);
    const auto* dtype = safetensors_dtype(tensor.scalar_type());
    if (!dtype)
      fail("{}: tensor '{}' has dtype {}, which safetensors cannot store (supported: {})", file.string(), name,
           c10::toString(tensor.scalar_type()), safetensors_dtype_names());
    items.push_back({&name, dtype, tensor.detach().to(torch::kCPU).contiguous()});
  }
  // Stable sort keeps the map's name order within one dtype.
  std::stable_sort(items.begin(), items.end(), [](const Item& a, const Item& b) { return a.dtype->rank > b.dtype->rank; });

  const std::string header = build_header(file, items, metadata);
  uint8_t length[8];
  for (int i = 0; i < 8; ++i) length[i] = uint8_t(uint64_t(header.size()) >> (8 * i));
  AtomicFile out(file);
  out.write(length, sizeof length);
  out.write(header.data(), header.size());
  for (const auto& item : items) out.write(item.data.data_ptr(), item.data.nbytes());
  out.commit();
}

}  // namespace ctxext::io
