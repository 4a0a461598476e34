// Calls around each decoder layer, for code that must act per layer while the model stays unaware
// of why (train/fully_sharded_adamw.h gathers a layer's sharded weights just before the layer runs
// and frees them after). Every member may be empty. `layer` counts from 0.
#pragma once
#include <cstddef>
#include <functional>

namespace ctxext::model {

struct LayerHooks {
  std::function<void(size_t layer)> before_forward;  // the layer's weights are about to be used
  // Its forward returned; checkpointed: it ran without keeping activations (nothing holds its
  // weights until before_backward), else autograd keeps what it needs of them until backward.
  std::function<void(size_t layer, bool checkpointed)> after_forward;
  // Under activation checkpointing only: around the layer's recompute and backward; after_backward
  // runs once its parameters' gradients of this backward pass are complete.
  std::function<void(size_t layer)> before_backward;
  std::function<void(size_t layer)> after_backward;
};

}  // namespace ctxext::model
