// A function autograd runs right after it has added a backward pass's gradient into a parameter's
// .grad (LibTorch's post-accumulate-grad hook; one per parameter, a new one replaces the old). Data
// parallel and offload start a gradient bucket's reduction from it while backward goes on.
#pragma once
#include <torch/types.h>

#include <functional>
#include <string>

namespace ctxext::train {

void set_gradient_ready_hook(const torch::Tensor& param, std::function<void()> ready);
void clear_gradient_ready_hook(const torch::Tensor& param);  // no-op without one

// Whether the parameter of this name gets its gradient in one piece per backward, so that its hook
// marks the gradient final: the decoder layers' ("model.layers.<i>.*": each layer runs once, also
// when recomputed under activation checkpointing). The embeddings and the LM head may get theirs in
// several pieces (tied weights, loss chunks).
bool gradient_arrives_once(const std::string& name);

}  // namespace ctxext::train
