#include "train/gradient_accumulation.h"

#include <algorithm>

#include "train/causal_lm_loss.h"

namespace ctxext {

AccumulatedStep accumulate_gradients(LlamaForCausalLMImpl& model, const std::vector<data::Batch>& micro_batches,
                                     const torch::Device& device, int64_t loss_chunk, int64_t global_targets,
                                     const MicroBatchHooks& hooks) {
  AccumulatedStep step;
  for (const auto& batch : micro_batches) step.targets += count_supervised_targets(batch.labels);
  const int64_t all_targets = global_targets > 0 ? global_targets : step.targets;
  const double denominator = static_cast<double>(std::max<int64_t>(1, all_targets));
  const LogitsFn logits = [&model](const torch::Tensor& h) { return model.logits(h); };
  for (const auto& batch : micro_batches) {
    if (hooks.before) hooks.before(&batch == &micro_batches.back());
    const auto labels = batch.labels.to(device);
    const auto hidden = model.model->forward(batch.input_ids.to(device));  // [b, s, h]
    const auto loss = causal_lm_loss_sum(logits, hidden, labels, loss_chunk) / denominator;
    loss.backward();
    step.loss += loss.item<double>();
    if (hooks.after) hooks.after();
  }
  return step;
}

}  // namespace ctxext
