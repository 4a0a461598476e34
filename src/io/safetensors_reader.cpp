// read_safetensors: every check of the reference reader (huggingface/safetensors,
// safetensors/src/tensor.rs: `read_metadata`, `Metadata::validate`), plus duplicate names.
#include <ATen/ops/empty.h>
#include <ATen/ops/from_blob.h>

#include <algorithm>
#include <cstring>
#include <limits>
#include <vector>

#include "core/error.h"
#include "io/mapped_file.h"
#include "io/safetensors.h"
#include "io/safetensors_dtype.h"
#include "io/strict_json.h"

namespace ctxext::io {
namespace {

constexpr uint64_t kMaxHeaderBytes = 100'000'000;  // the reference's MAX_HEADER_SIZE

struct Entry {
  std::string name;
  const SafetensorsDtype* dtype;
  std::vector<int64_t> shape;
  uint64_t begin, end;  // byte offsets into the data section
};

uint64_t read_u64_le(const uint8_t* p) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = (v << 8) | p[i];
  return v;
}

// One tensor's header entry: {"dtype": "F32", "shape": [2, 3], "data_offsets": [0, 24]}.
Entry parse_entry(const std::string& file, const std::string& name, const nlohmann::json& value) {
  const auto where = [&] { return fmt::format("{}: tensor '{}'", file, name); };
  if (!value.is_object()) fail("{}: entry is not a JSON object", where());
  for (const char* key : {"dtype", "shape", "data_offsets"})
    if (!value.contains(key)) fail("{}: missing '{}'", where(), key);

  const auto& dtype = value["dtype"];
  if (!dtype.is_string()) fail("{}: 'dtype' is not a string", where());
  Entry e{name, safetensors_dtype(dtype.get<std::string>()), {}, 0, 0};
  if (!e.dtype)
    fail("{}: unknown dtype '{}' (supported: {})", where(), dtype.get<std::string>(), safetensors_dtype_names());

  const auto& shape = value["shape"];
  if (!shape.is_array()) fail("{}: 'shape' is not a list", where());
  for (const auto& d : shape) {
    if (!d.is_number_unsigned()) fail("{}: 'shape' holds {}, not a non-negative integer", where(), json_excerpt(d));
    const auto dim = d.get<uint64_t>();
    if (dim > uint64_t(std::numeric_limits<int64_t>::max())) fail("{}: shape dimension {} overflows", where(), dim);
    e.shape.push_back(int64_t(dim));
  }

  const auto& offsets = value["data_offsets"];
  if (!offsets.is_array() || offsets.size() != 2 || !offsets[0].is_number_unsigned() || !offsets[1].is_number_unsigned())
    fail("{}: 'data_offsets' is {}, not [begin, end] with non-negative integers", where(), json_excerpt(offsets));
  e.begin = offsets[0].get<uint64_t>();
  e.end = offsets[1].get<uint64_t>();
  return e;
}

// `__metadata__`: string -> string, or null (the reference reads it as an Option).
std::map<std::string, std::string> parse_metadata(const std::string& file, const nlohmann::json& value) {
  std::map<std::string, std::string> out;
  if (value.is_null()) return out;
  if (!value.is_object()) fail("{}: '__metadata__' is not a JSON object of strings", file);
  for (const auto& [key, v] : value.items()) {
    if (!v.is_string()) fail("{}: '__metadata__' key '{}' is {}, not a string", file, key, json_excerpt(v));
    out[key] = v.get<std::string>();
  }
  return out;
}

// Offsets, sorted by (begin, end), must tile [0, data_size) exactly; each span must hold
// numel * itemsize bytes.
void validate_layout(const std::string& file, std::vector<Entry>& entries, uint64_t data_size) {
  std::sort(entries.begin(), entries.end(),
            [](const Entry& a, const Entry& b) { return std::tie(a.begin, a.end) < std::tie(b.begin, b.end); });
  uint64_t expected_begin = 0;
  for (const auto& e : entries) {
    const auto where = [&] { return fmt::format("{}: tensor '{}'", file, e.name); };
    if (e.begin != expected_begin)
      fail("{}: data_offsets [{}, {}] begin at {} but the previous tensor ends at {} ({})", where(), e.begin, e.end,
           e.begin, expected_begin, e.begin > expected_begin ? "gap" : "overlap");
    if (e.end < e.begin) fail("{}: data_offsets [{}, {}] end before they begin", where(), e.begin, e.end);
    expected_begin = e.end;
    uint64_t bytes = e.dtype->itemsize;
    for (int64_t d : e.shape)
      if (__builtin_mul_overflow(bytes, uint64_t(d), &bytes))
        fail("{}: shape {} of {} overflows the size computation", where(), fmt::join(e.shape, "x"), e.dtype->name);
    if (bytes != e.end - e.begin)
      fail("{}: shape [{}] of {} needs {} bytes but data_offsets [{}, {}] span {}", where(),
           fmt::join(e.shape, ", "), e.dtype->name, bytes, e.begin, e.end, e.end - e.begin);
  }
  if (expected_begin < data_size)
    fail("{}: {} trailing bytes after the last tensor (data section {} bytes, tensors end at {})", file,
         data_size - expected_begin, data_size, expected_begin);
  if (expected_begin > data_size)
    fail("{}: file truncated: tensors end at byte {} of the data section but it holds {} bytes", file,
         expected_begin, data_size);
}

// A CPU view of the mapping that keeps it alive. Data not aligned to the item size (possible only
// in files from other writers) is copied instead, since kernels may assume alignment.
torch::Tensor tensor_view(const std::shared_ptr<MappedFile>& mapping, uint64_t data_start, const Entry& e) {
  uint8_t* ptr = mapping->data() + data_start + e.begin;
  const auto options = torch::TensorOptions().dtype(e.dtype->type).device(torch::kCPU);
  if (reinterpret_cast<uintptr_t>(ptr) % e.dtype->itemsize == 0)
    return at::from_blob(ptr, e.shape, [mapping](void*) {}, options);
  auto copy = at::empty(e.shape, options);
  std::memcpy(copy.data_ptr(), ptr, e.end - e.begin);
  return copy;
}

}  // namespace

SafetensorsContent read_safetensors(const std::filesystem::path& path) {
  const std::string file = path.string();
  const auto mapping = MappedFile::open(path);
  const uint64_t size = mapping->size();
  if (size < 8) fail("{}: not a safetensors file: {} bytes, shorter than the 8-byte header length", file, size);
  const uint64_t n = read_u64_le(mapping->data());
  if (n > kMaxHeaderBytes) fail("{}: header length {} exceeds the limit of {} bytes", file, n, kMaxHeaderBytes);
  if (n > size - 8) fail("{}: header length {} runs past the end of the file ({} bytes)", file, n, size);

  const std::string_view header(reinterpret_cast<const char*>(mapping->data()) + 8, n);
  if (!is_valid_utf8(header)) fail("{}: header is not valid UTF-8", file);
  const auto root = parse_strict_json(header, file + ": header");
  if (!root.is_object()) fail("{}: header is not a JSON object", file);

  SafetensorsContent content;
  std::vector<Entry> entries;
  for (const auto& [key, value] : root.items()) {
    if (key == "__metadata__")
      content.metadata = parse_metadata(file, value);
    else
      entries.push_back(parse_entry(file, key, value));
  }
  validate_layout(file, entries, size - 8 - n);
  for (const auto& e : entries) content.tensors.emplace(e.name, tensor_view(mapping, 8 + n, e));
  return content;
}

}  // namespace ctxext::io
