// A request, passed down one forward pass, for what scaled-dot-product attention computes but never
// materialises: the attention probabilities of chosen queries in every layer. Each layer computes
// them from its own rotated (and EABF-scaled) queries and keys, so a probe reads the attention the
// model applies; the eval layer turns them into entropies (eval/attention_entropy.h).
#pragma once
#include <torch/types.h>

#include <cstdint>
#include <vector>

namespace ctxext::model {

struct AttentionProbe {
  std::vector<int64_t> queries;              // query rows in the call's sequence, each in [0, s)
  std::vector<torch::Tensor> probabilities;  // appended per layer, in order: [n_h, queries.size(), s] float32,
                                             // row r over keys 0..queries[r], zero past it (causal)
};

}  // namespace ctxext::model
