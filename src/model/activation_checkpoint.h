// Activation checkpointing for LibTorch C++ (which has no torch.utils.checkpoint): run a block
// without keeping its activations, and recompute it during backward.
#pragma once
#include <torch/types.h>

#include <functional>

namespace ctxext::model {

using Block = std::function<torch::Tensor(const torch::Tensor&)>;

// y = block(x), keeping only x. In backward the block runs again with grad enabled and its
// gradients flow into x and into whatever parameters the block uses (re-entrant backward, as
// PyTorch's reentrant checkpoint). The block must be deterministic (no dropout here).
// x: [b, s, h] (any shape); returns block(x). before_backward / after_backward (may be empty) run
// just before the recompute and just after the block's backward has accumulated its gradients.
torch::Tensor checkpointed(const Block& block, const torch::Tensor& x, std::function<void()> before_backward = {},
                           std::function<void()> after_backward = {});

}  // namespace ctxext::model
