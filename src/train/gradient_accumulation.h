// The backward passes of one optimizer step. Every micro-batch loss is divided by the number of
// supervised targets in the WHOLE global batch, so k micro-batches of m samples accumulate exactly
// the gradients of one batch of k*m samples (a mean over all its targets, as HF computes it).
#pragma once
#include <torch/types.h>

#include <functional>
#include <vector>

#include "data/batching.h"
#include "model/llama_model.h"

namespace ctxext::train {

struct AccumulatedStep {
  double loss = 0.0;       // mean NLL per supervised target of the global batch
  int64_t targets = 0;     // supervised targets of micro_batches
};

// Called around each micro-batch's forward + backward (either may be empty); before(last) says
// whether it is the last micro-batch of the step.
struct MicroBatchHooks {
  std::function<void(bool last)> before;
  std::function<void()> after;
};

// micro_batches: the global batch, split (in a data-parallel job: this rank's part of it).
// Gradients add up in the model's parameters (callers zero them first). loss_chunk: positions per
// chunk of the fused LM head + loss (train/causal_lm_loss.h). global_targets: the supervised
// targets of the whole global batch over every rank (<= 0: those of micro_batches); `loss` is then
// this rank's share of the mean.
AccumulatedStep accumulate_gradients(model::LlamaForCausalLMImpl& model, const std::vector<data::Batch>& micro_batches,
                                     const torch::Device& device, int64_t loss_chunk, int64_t global_targets = 0,
                                     const MicroBatchHooks& hooks = {});

}  // namespace ctxext::train
