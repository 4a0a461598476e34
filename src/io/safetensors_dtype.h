// The safetensors dtype names and their torch scalar types.
#pragma once
#include <c10/core/ScalarType.h>

#include <cstdint>
#include <string>

namespace ctxext::io {

struct SafetensorsDtype {
  const char* name;      // as written in the header: "F32", "BF16", ...
  c10::ScalarType type;
  int64_t itemsize;
  int rank;              // the reference writer's order: data of higher rank comes first
};

// nullptr when the name is not a dtype we read.
const SafetensorsDtype* safetensors_dtype(const std::string& name);
// nullptr when the scalar type has no safetensors name (complex, quantized, ...).
const SafetensorsDtype* safetensors_dtype(c10::ScalarType type);
// "F64, F32, ..." for messages.
std::string safetensors_dtype_names();

}  // namespace ctxext::io
