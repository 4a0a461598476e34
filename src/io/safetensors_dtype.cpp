#include "io/safetensors_dtype.h"

#include <array>

namespace ctxext::io {
namespace {

// The reference crate's `Dtype` enum lists types in increasing alignment; it writes tensors in
// decreasing enum order (then by name) so each tensor's data stays aligned. `rank` is that order.
// Source: huggingface/safetensors, safetensors/src/tensor.rs (`enum Dtype`, `prepare`).
constexpr std::array<SafetensorsDtype, 15> kDtypes{{
    {"BOOL", c10::ScalarType::Bool, 1, 0},
    {"U8", c10::ScalarType::Byte, 1, 1},
    {"I8", c10::ScalarType::Char, 1, 2},
    {"F8_E5M2", c10::ScalarType::Float8_e5m2, 1, 3},
    {"F8_E4M3", c10::ScalarType::Float8_e4m3fn, 1, 4},
    {"I16", c10::ScalarType::Short, 2, 5},
    {"U16", c10::ScalarType::UInt16, 2, 6},
    {"F16", c10::ScalarType::Half, 2, 7},
    {"BF16", c10::ScalarType::BFloat16, 2, 8},
    {"I32", c10::ScalarType::Int, 4, 9},
    {"U32", c10::ScalarType::UInt32, 4, 10},
    {"F32", c10::ScalarType::Float, 4, 11},
    {"F64", c10::ScalarType::Double, 8, 12},
    {"I64", c10::ScalarType::Long, 8, 13},
    {"U64", c10::ScalarType::UInt64, 8, 14},
}};

}  // namespace

const SafetensorsDtype* safetensors_dtype(const std::string& name) {
  for (const auto& d : kDtypes)
    if (name == d.name) return &d;
  return nullptr;
}

const SafetensorsDtype* safetensors_dtype(c10::ScalarType type) {
  for (const auto& d : kDtypes)
    if (type == d.type) return &d;
  return nullptr;
}

std::string safetensors_dtype_names() {
  std::string out;
  for (auto it = kDtypes.rbegin(); it != kDtypes.rend(); ++it) out += (out.empty() ? "" : ", ") + std::string(it->name);
  return out;
}

}  // namespace ctxext::io
