// The held-out eval loss of train.eval_every / data.eval_path: the mean next-token NLL of held-out
// samples, computed as training computes its loss (the same fused LM head + loss, the same
// masking), without gradients and with the model in eval mode (restored after, also on an error).
#pragma once
#include <torch/types.h>

#include <cstdint>
#include <vector>

#include "data/sample.h"
#include "model/llama_model.h"

namespace ctxext::train {

struct HeldoutSums {
  double nll = 0.0;     // summed NLL over the supervised targets
  int64_t targets = 0;  // supervised targets scored (labels[:, 1:] != kIgnoreIndex)
};

// samples[indices], in batches of micro_batch_size (the last may be smaller), each forward on
// `device`. loss_chunk: positions per chunk of the fused LM head + loss (train/causal_lm_loss.h).
// A data-parallel job passes each rank its share of the indices and all-reduces the sums.
HeldoutSums heldout_loss_sums(model::LlamaForCausalLMImpl& model, const std::vector<data::Sample>& samples,
                              const std::vector<int64_t>& indices, int64_t micro_batch_size,
                              const torch::Device& device, int64_t loss_chunk);

}  // namespace ctxext::train
