#include "model/llama_mlp.h"

#include <torch/torch.h>

#include "ops/swiglu.h"

namespace ctxext::model {

LlamaMLPImpl::LlamaMLPImpl(int64_t hidden_size, int64_t intermediate_size) {
  const auto linear = [](int64_t in, int64_t out) { return torch::nn::LinearOptions(in, out).bias(false); };
  gate_proj = register_module("gate_proj", torch::nn::Linear(linear(hidden_size, intermediate_size)));
  up_proj = register_module("up_proj", torch::nn::Linear(linear(hidden_size, intermediate_size)));
  down_proj = register_module("down_proj", torch::nn::Linear(linear(intermediate_size, hidden_size)));
}

// x: [b, s, h]. HF: down(act_fn(gate(x)) * up(x)) with act_fn = silu; the activation and the
// product are one op (ops/swiglu.h) that keeps only gate(x) and up(x) for the backward.
torch::Tensor LlamaMLPImpl::forward(const torch::Tensor& x) {
  return down_proj(ops::swiglu(gate_proj(x), up_proj(x)));
}

}  // namespace ctxext::model
