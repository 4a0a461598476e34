// LLaMA's feed-forward block (SwiGLU): down(silu(gate(x)) * up(x)), no biases; the activation and the
// product are the fused op ctxext::swiglu (ops/swiglu.h).
#pragma once
#include <torch/nn/module.h>
#include <torch/nn/modules/linear.h>
#include <torch/nn/pimpl.h>

namespace ctxext::model {

class LlamaMLPImpl : public torch::nn::Module {
 public:
  LlamaMLPImpl(int64_t hidden_size, int64_t intermediate_size);
  // x: [b, s, h] -> [b, s, h]
  torch::Tensor forward(const torch::Tensor& x);

  torch::nn::Linear gate_proj{nullptr}, up_proj{nullptr}, down_proj{nullptr};
};
TORCH_MODULE(LlamaMLP);

}  // namespace ctxext::model
