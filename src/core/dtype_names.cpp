#include "core/dtype_names.h"

#include "core/error.h"

namespace ctxext {

std::string dtype_name(torch::Dtype dtype) {
  switch (dtype) {
    case torch::kFloat32: return "float32";
    case torch::kBFloat16: return "bfloat16";
    case torch::kFloat16: return "float16";
    default: fail("dtype {}: weights are float32, bfloat16 or float16", c10::toString(dtype));
  }
}

torch::Dtype parse_dtype_name(std::string_view name, std::string_view what) {
  if (name == "float32" || name == "fp32") return torch::kFloat32;
  if (name == "bfloat16" || name == "bf16") return torch::kBFloat16;
  if (name == "float16" || name == "fp16") return torch::kFloat16;
  fail("{}: unknown dtype '{}' (use float32, bfloat16 or float16; fp32, bf16, fp16 also accepted)", what, name);
}

}  // namespace ctxext
