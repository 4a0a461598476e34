// safetensors files: a memory-mapped reader with every check of the reference reader, and a
// deterministic writer (the reference writer's bytes, no timestamps).
#pragma once
#include <torch/types.h>

#include <filesystem>
#include <map>
#include <string>

namespace ctxext::io {

// Name -> tensor. Tensors are CPU views of the file, mapped copy-on-write: in-place changes stay
// in memory, never reach the file. The mapping lives as long as any tensor does. Data not aligned
// to its item size (only in files from other writers) is copied. Dtypes: F64 F32 F16 BF16
// F8_E4M3 F8_E5M2 I64 I32 I16 I8 U64 U32 U16 U8 BOOL (see safetensors_dtype.h).
struct SafetensorsContent {
  std::map<std::string, torch::Tensor> tensors;
  std::map<std::string, std::string> metadata;  // the optional "__metadata__" entry
};

// Throws ctxext::Error naming the file (and tensor) and the reason for any malformed input:
// header > 100 MB or beyond the file, invalid UTF-8/JSON, unknown dtype, bad shape, offsets not
// contiguous from 0 (gaps/overlaps), size overflow, bytes != numel*itemsize, trailing bytes,
// duplicate names.
SafetensorsContent read_safetensors(const std::filesystem::path& file);

// Writes atomically (temp file, fsync, rename); the bytes are those of the reference writer
// (data ordered widest dtype first, then by name; header padded to 8 bytes), metadata keys sorted.
// Tensors may be on any device and non-contiguous; they are copied to CPU as needed.
void write_safetensors(const std::filesystem::path& file, const std::map<std::string, torch::Tensor>& tensors,
                       const std::map<std::string, std::string>& metadata = {});

}  // namespace ctxext::io
