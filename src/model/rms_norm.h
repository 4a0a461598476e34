// RMSNorm as LLaMA (and HF LlamaRMSNorm) computes it: statistics in float32, the weight applied
// after casting back to the input dtype.
#pragma once
#include <torch/nn/module.h>
#include <torch/nn/pimpl.h>

namespace ctxext::model {

class RMSNormImpl : public torch::nn::Module {
 public:
  RMSNormImpl(int64_t hidden_size, double eps);
  // x: [..., h] -> [..., h] in x's dtype (weight's dtype when they differ, as HF)
  torch::Tensor forward(const torch::Tensor& x);

  torch::Tensor weight;  // [h], ones at init
  double eps;
};
TORCH_MODULE(RMSNorm);

}  // namespace ctxext::model
