// safetensors files: a memory-mapped reader with every check of the reference reader, and a
// deterministic writer (tensors sorted by name, no timestamps) whose files the reference accepts.
#pragma once
#include <torch/types.h>

#include <filesystem>
#include <map>
#include <string>

namespace ctxext {

// Name -> tensor. Tensors are CPU views of the mapped file (F32, F16, BF16, and the integer dtypes
// the format defines); the mapping lives as long as any tensor does.
struct SafetensorsContent {
  std::map<std::string, torch::Tensor> tensors;
  std::map<std::string, std::string> metadata;  // the optional "__metadata__" entry
};

// Throws ctxext::Error naming the file (and tensor) and the reason for any malformed input:
// header > 100 MB or beyond the file, invalid UTF-8/JSON, unknown dtype, bad shape, offsets not
// contiguous from 0 (gaps/overlaps), size overflow, bytes != numel*itemsize, trailing bytes,
// duplicate names.
SafetensorsContent read_safetensors(const std::filesystem::path& file);

// Writes atomically (temp file, fsync, rename). Tensors are written contiguous, on CPU, sorted by name.
void write_safetensors(const std::filesystem::path& file, const std::map<std::string, torch::Tensor>& tensors,
                       const std::map<std::string, std::string>& metadata = {});

}  // namespace ctxext
