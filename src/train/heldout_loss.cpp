#include "train/heldout_loss.h"

#include <algorithm>

#include "data/batching.h"
#include "model/mode_guard.h"
#include "train/causal_lm_loss.h"

namespace ctxext::train {

HeldoutSums heldout_loss_sums(model::LlamaForCausalLMImpl& model, const std::vector<data::Sample>& samples,
                              const std::vector<int64_t>& indices, int64_t micro_batch_size,
                              const torch::Device& device, int64_t loss_chunk) {
  const model::ModeGuard eval_mode(model, /*training=*/false);
  const torch::NoGradGuard no_grad;
  // The LM head as training uses it (train/gradient_accumulation.cpp): lm_head, or the tied embedding.
  const auto& lm_head_weight = model.lm_head ? model.lm_head->weight : model.model->embed_tokens->weight;
  HeldoutSums sums;
  const auto size = static_cast<int64_t>(indices.size());
  for (int64_t begin = 0; begin < size; begin += micro_batch_size) {
    const auto end = indices.begin() + std::min(size, begin + micro_batch_size);
    const auto batch = data::make_batch(samples, std::vector<int64_t>(indices.begin() + begin, end));
    const auto labels = batch.labels.to(device);
    const auto hidden = model.model->forward(batch.input_ids.to(device));  // [b, s, h]
    sums.nll += causal_lm_loss_sum(lm_head_weight, hidden, labels, loss_chunk).item<double>();
    sums.targets += count_supervised_targets(batch.labels);
  }
  return sums;
}

}  // namespace ctxext::train
