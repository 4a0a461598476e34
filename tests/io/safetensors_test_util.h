// Helpers for the io tests: hand-made safetensors bytes and a byte-exact listing of tensors that
// tests/oracle/safetensors_check.py prints the same way.
#pragma once
#include <torch/types.h>

#include <cstdint>
#include <map>
#include <string>

#include "io/safetensors_dtype.h"

namespace ctxext::testing {

// The 8-byte little-endian header length.
inline std::string le64(uint64_t n) {
  std::string out(8, '\0');
  for (int i = 0; i < 8; ++i) out[i] = char(uint8_t(n >> (8 * i)));
  return out;
}

// A safetensors file's bytes: length, JSON header, data section.
inline std::string safetensors_bytes(const std::string& header, const std::string& data) {
  return le64(header.size()) + header + data;
}

// "__metadata__ k=v" lines, then "name DTYPE [d0, d1] hex" per tensor in name order.
inline std::string listing(const std::map<std::string, torch::Tensor>& tensors,
                           const std::map<std::string, std::string>& metadata) {
  std::string out;
  for (const auto& [k, v] : metadata) out += fmt::format("__metadata__ {}={}\n", k, v);
  for (const auto& [name, tensor] : tensors) {
    const auto t = tensor.contiguous();
    const auto* bytes = static_cast<const uint8_t*>(t.data_ptr());
    std::string hex;
    for (size_t i = 0; i < t.nbytes(); ++i) hex += fmt::format("{:02x}", bytes[i]);
    out += fmt::format("{} {} [{}] {}\n", name, ctxext::io::safetensors_dtype(t.scalar_type())->name,
                       fmt::join(t.sizes(), ", "), hex);
  }
  return out;
}

}  // namespace ctxext::testing
