// The frequency function of each method (one file each: rope/<method>.cpp) and the HF base
// frequencies they share. Only rope/registry.cpp and the method files include this.
#pragma once
#include <torch/types.h>

#include "rope/rope_method.h"

namespace ctxext::rope_methods {

// [dim/2] float32: 1 / base^(arange(0, dim, 2) / dim), the float32 arithmetic of HF's rope init
// functions (int64 arange -> float32, torch.pow(scalar base, tensor), then 1.0 / x).
torch::Tensor base_inv_freq(double base, int64_t dim);

RopeFrequencies none(const RopeOptions& options, int64_t head_dim, int64_t seq_len);
RopeFrequencies pi(const RopeOptions& options, int64_t head_dim, int64_t seq_len);
RopeFrequencies ntk(const RopeOptions& options, int64_t head_dim, int64_t seq_len);
RopeFrequencies dynamic_ntk(const RopeOptions& options, int64_t head_dim, int64_t seq_len);
RopeFrequencies yarn(const RopeOptions& options, int64_t head_dim, int64_t seq_len);
RopeFrequencies llama3(const RopeOptions& options, int64_t head_dim, int64_t seq_len);
RopeFrequencies abf(const RopeOptions& options, int64_t head_dim, int64_t seq_len);
RopeFrequencies eabf(const RopeOptions& options, int64_t head_dim, int64_t seq_len);

}  // namespace ctxext::rope_methods
