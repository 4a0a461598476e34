// Batches: samples padded on the right to the longest in the batch. Attention is causal, so the
// padding after a sample's end never influences its positions; its labels are kIgnoreIndex.
#pragma once
#include <torch/types.h>

#include <cstdint>
#include <vector>

#include "data/sample.h"

namespace ctxext::data {

struct Batch {
  torch::Tensor input_ids;  // [b, s] int64, pad_id after each sample's end
  torch::Tensor labels;     // [b, s] int64, kIgnoreIndex on prompt and padding (aligned, not shifted)
  torch::Tensor lengths;    // [b] int64, tokens before the padding
};

// samples: at least one, each non-empty. pad_id: LLaMA has no pad token; 0 (<unk>) is never
// attended to nor trained on.
Batch make_batch(const std::vector<const Sample*>& samples, int64_t pad_id = 0);

// The samples at `indices` (e.g. SampleOrder::take(position, batch_size)).
Batch make_batch(const std::vector<Sample>& samples, const std::vector<int64_t>& indices, int64_t pad_id = 0);

}  // namespace ctxext::data
