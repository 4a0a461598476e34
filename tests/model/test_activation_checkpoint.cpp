// Activation checkpointing must give the same output and gradients as the plain block.
#include <catch2/catch.hpp>
#include <torch/torch.h>

#include "model/activation_checkpoint.h"

TEST_CASE("activation checkpointing: same output and gradients as the plain block", "[checkpoint]") {
  torch::manual_seed(0);
  torch::nn::Linear first(8, 16), second(16, 8);
  const auto block = [&](const torch::Tensor& h) { return second(torch::silu(first(h))) + h; };
  const auto x = torch::randn({2, 5, 8}, torch::kFloat64).to(torch::kFloat32).requires_grad_(true);

  const auto plain = block(x);
  plain.pow(2).sum().backward();
  const auto grad_x = x.grad().clone();
  const auto grad_w = first->weight.grad().clone();
  x.mutable_grad().zero_();
  first->weight.mutable_grad().zero_();
  second->weight.mutable_grad().zero_();

  const auto recomputed = ctxext::model::checkpointed(block, x);
  CHECK(torch::equal(plain, recomputed));
  recomputed.pow(2).sum().backward();
  CHECK(torch::allclose(x.grad(), grad_x, 1e-6, 1e-6));
  CHECK(torch::allclose(first->weight.grad(), grad_w, 1e-6, 1e-6));
  CHECK(first->weight.grad().abs().sum().item<double>() > 0);
}
