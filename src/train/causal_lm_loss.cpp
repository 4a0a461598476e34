#include "train/causal_lm_loss.h"

#include <torch/nn/functional/loss.h>

#include "data/sample.h"
#include "model/activation_checkpoint.h"

namespace ctxext {

namespace F = torch::nn::functional;

torch::Tensor causal_lm_loss_sum(const LogitsFn& logits, const torch::Tensor& hidden, const torch::Tensor& labels,
                                 int64_t chunk_size) {
  const int64_t s = hidden.size(1);
  // targets[t] = labels[t + 1]; the last position predicts nothing.
  const auto targets = torch::cat({labels.slice(1, 1), torch::full({labels.size(0), 1}, data::kIgnoreIndex, labels.options())}, 1);
  const int64_t step = chunk_size > 0 ? chunk_size : s;
  torch::Tensor total = torch::zeros({}, hidden.options().dtype(torch::kFloat32));
  for (int64_t begin = 0; begin < s; begin += step) {
    const int64_t end = std::min(s, begin + step);
    const auto chunk_targets = targets.slice(1, begin, end).reshape({-1});
    if ((chunk_targets != data::kIgnoreIndex).sum().item<int64_t>() == 0) continue;
    // By value: a checkpointed chunk runs this again during backward, after this loop is gone.
    const auto chunk_loss = [logits, chunk_targets](const torch::Tensor& h) {
      const auto l = logits(h);  // [b, c, vocab] float32
      return F::cross_entropy(l.reshape({-1, l.size(-1)}), chunk_targets,
                              F::CrossEntropyFuncOptions().ignore_index(data::kIgnoreIndex).reduction(torch::kSum));
    };
    const auto h = hidden.slice(1, begin, end);
    total = total + (step < s ? checkpointed(chunk_loss, h) : chunk_loss(h));
  }
  return total;
}

int64_t count_supervised_targets(const torch::Tensor& labels) {
  return (labels.slice(1, 1) != data::kIgnoreIndex).sum().item<int64_t>();
}

}  // namespace ctxext
