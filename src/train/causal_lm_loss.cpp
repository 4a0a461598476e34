#include "train/causal_lm_loss.h"

#include <torch/torch.h>

#include "data/sample.h"
#include "ops/linear_cross_entropy.h"

namespace ctxext::train {

torch::Tensor causal_lm_loss_sum(const torch::Tensor& lm_head_weight, const torch::Tensor& hidden,
                                 const torch::Tensor& labels, int64_t chunk_size) {
  const int64_t b = hidden.size(0), s = hidden.size(1);
  // targets[t] = labels[t + 1]; the last position predicts nothing.
  const auto targets =
      torch::cat({labels.slice(1, 1), torch::full({b, 1}, data::kIgnoreIndex, labels.options())}, 1).reshape({-1});
  const int64_t rows_per_chunk = chunk_size > 0 && chunk_size < s ? b * chunk_size : 0;
  return ops::linear_cross_entropy(hidden.reshape({b * s, hidden.size(2)}), lm_head_weight, targets,
                                   data::kIgnoreIndex, rows_per_chunk, ops::LossReduction::kSum)
      .to(torch::kFloat32);
}

int64_t count_supervised_targets(const torch::Tensor& labels) {
  return (labels.slice(1, 1) != data::kIgnoreIndex).sum().item<int64_t>();
}

}  // namespace ctxext::train
