// Next-token cross-entropy of a causal LM through the fused LM head + loss op
// (ops/linear_cross_entropy.h): the float32 logits [tokens x vocab] never exist all at once (one
// chunk of positions at a time), and the gradients w.r.t. the hidden states and the LM-head
// weight are produced in the forward pass, so backward recomputes nothing.
#pragma once
#include <torch/types.h>

namespace ctxext::train {

// lm_head_weight: [vocab, h] (the model's lm_head, or the embedding matrix when tied); hidden:
// [b, s, h] final hidden states, same dtype; labels: [b, s] aligned with the inputs (not shifted),
// kIgnoreIndex (-100, data/sample.h) where no loss is taken. Logits at t are scored against
// labels[t + 1], as HF does. Returns the SUM of the token losses (a float32 scalar) so callers can
// normalise over a whole accumulated batch. chunk_size: positions per chunk (<= 0: all at once);
// a chunk spans all b sequences, so at most b * chunk_size rows of logits exist at a time.
torch::Tensor causal_lm_loss_sum(const torch::Tensor& lm_head_weight, const torch::Tensor& hidden,
                                 const torch::Tensor& labels, int64_t chunk_size);

// Positions that carry a loss once shifted: labels[:, 1:] != kIgnoreIndex.
int64_t count_supervised_targets(const torch::Tensor& labels);

}  // namespace ctxext::train
