// Next-token cross-entropy of a causal LM, computed over chunks of positions so the float32
// logits [tokens x vocab] never exist all at once (each chunk is recomputed in backward).
#pragma once
#include <torch/types.h>

#include <functional>

namespace ctxext {

using LogitsFn = std::function<torch::Tensor(const torch::Tensor&)>;  // [b, c, h] -> [b, c, vocab] float32

// hidden: [b, s, h] final hidden states; labels: [b, s] aligned with the inputs (not shifted),
// kIgnoreIndex (-100, data/sample.h) where no loss is taken. Logits at t are scored against labels[t + 1], as HF does.
// Returns the SUM of the token losses (a float32 scalar) so callers can normalise over a whole
// accumulated batch. chunk_size: positions per chunk (<= 0: all at once).
torch::Tensor causal_lm_loss_sum(const LogitsFn& logits, const torch::Tensor& hidden, const torch::Tensor& labels,
                                 int64_t chunk_size);

// Positions that carry a loss once shifted: labels[:, 1:] != kIgnoreIndex.
int64_t count_supervised_targets(const torch::Tensor& labels);

}  // namespace ctxext
