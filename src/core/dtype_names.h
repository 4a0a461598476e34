// Floating-point dtype names, spelled one way on output (HF's: "float32", "bfloat16", "float16")
// and accepted in both spellings on input (also "fp32", "bf16", "fp16").
#pragma once
#include <torch/types.h>

#include <string>
#include <string_view>

namespace ctxext {

// HF's name of a weight dtype; fails for anything but float32, bfloat16, float16.
std::string dtype_name(torch::Dtype dtype);

// Fails with "<what>: unknown dtype '<name>' (use float32, bfloat16 or float16)".
torch::Dtype parse_dtype_name(std::string_view name, std::string_view what);

}  // namespace ctxext
