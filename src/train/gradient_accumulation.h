// The backward passes of one optimizer step. Every micro-batch loss is divided by the number of
// supervised targets in the WHOLE global batch, so k micro-batches of m samples accumulate exactly
// the gradients of one batch of k*m samples (a mean over all its targets, as HF computes it).
#pragma once
#include <torch/types.h>

#include <vector>

#include "data/batching.h"
#include "model/llama_model.h"

namespace ctxext {

struct AccumulatedStep {
  double loss = 0.0;       // mean NLL per supervised target of the global batch
  int64_t targets = 0;     // supervised targets of the global batch
};

// micro_batches: the global batch, split. Gradients add up in the model's parameters (callers
// zero them first). loss_chunk: positions per chunk of the vocabulary projection.
AccumulatedStep accumulate_gradients(LlamaForCausalLMImpl& model, const std::vector<data::Batch>& micro_batches,
                                     const torch::Device& device, int64_t loss_chunk);

}  // namespace ctxext
