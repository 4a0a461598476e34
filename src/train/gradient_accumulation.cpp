#include "train/gradient_accumulation.h"

#include <algorithm>

#include "train/causal_lm_loss.h"

namespace ctxext::train {

AccumulatedStep accumulate_gradients(model::LlamaForCausalLMImpl& model, const std::vector<data::Batch>& micro_batches,
                                     const torch::Device& device, int64_t loss_chunk, int64_t global_targets,
                                     const MicroBatchHooks& hooks) {
  AccumulatedStep step;
  for (const auto& batch : micro_batches) step.targets += count_supervised_targets(batch.labels);
  const int64_t all_targets = global_targets > 0 ? global_targets : step.targets;
  const double denominator = static_cast<double>(std::max<int64_t>(1, all_targets));
  for (const auto& batch : micro_batches) {
    if (hooks.before) hooks.before(&batch == &micro_batches.back());
    // The LM head as LlamaForCausalLMImpl::logits uses it: lm_head, or the embedding matrix when tied.
    const auto& lm_head_weight = model.lm_head ? model.lm_head->weight : model.model->embed_tokens->weight;
    const auto labels = batch.labels.to(device);
    const auto hidden = model.model->forward(batch.input_ids.to(device));  // [b, s, h]
    const auto loss = causal_lm_loss_sum(lm_head_weight, hidden, labels, loss_chunk) / denominator;
    loss.backward();
    step.loss += loss.item<double>();
    if (hooks.after) hooks.after();
  }
  return step;
}

}  // namespace ctxext::train
