// The trainer's AdamW (train/fused_adamw.h: LibTorch's fused kernel) against LibTorch's C++
// torch::optim::AdamW it replaced: the same update to a few ulps of the largest value (the first
// moment is formed with a fused multiply-add, as torch.optim.AdamW does). The same layout gives the
// same bits (what resuming relies on); a flat tensor and its pieces agree to rounding (the kernel's
// scalar tail, the last numel % vector-width elements of each tensor, rounds differently).
#include <catch2/catch.hpp>
#include <torch/optim/adamw.h>
#include <torch/torch.h>

#include <cmath>

#include "train/fused_adamw.h"

using Catch::Matchers::Contains;

namespace {

const ctxext::train::AdamWSettings kSettings{1e-3, 0.9, 0.95, 1e-8, 0.1};

// Gradients of step t for a tensor of n elements (the same on every call).
torch::Tensor grad_at(int64_t n, int t) {
  torch::manual_seed(100 + t);
  return torch::randn({n}) * 1e-3;
}

// max |a - b| in units in the last place of max |b| (fp32 spacing at the largest magnitude).
double ulps_of_largest(const torch::Tensor& a, const torch::Tensor& b) {
  const float big = b.abs().max().item<float>();
  const float spacing = std::nextafter(big, INFINITY) - big;
  return (a.to(torch::kFloat64) - b.to(torch::kFloat64)).abs().max().item<double>() / spacing;
}

}  // namespace

TEST_CASE("fused AdamW: the same update as torch::optim::AdamW, to a few ulps", "[train][adamw]") {
  const int64_t n = 100003;  // not a multiple of any vector width: the kernel's tail runs too
  torch::manual_seed(1);
  auto w = (torch::randn({n}) * 0.02).requires_grad_(true);
  auto v = w.detach().clone().requires_grad_(true);
  const auto start = w.detach().clone();
  ctxext::train::FusedAdamW fused({w}, kSettings);
  torch::optim::AdamW reference({v}, torch::optim::AdamWOptions(kSettings.lr)
                                         .betas({kSettings.beta1, kSettings.beta2})
                                         .eps(kSettings.eps)
                                         .weight_decay(kSettings.weight_decay));
  for (int t = 1; t <= 20; ++t) {
    w.mutable_grad() = grad_at(n, t);
    v.mutable_grad() = grad_at(n, t);
    fused.step(kSettings.lr);
    reference.step();
  }
  const auto& state = fused.state(0);
  REQUIRE(state.has_value());
  CHECK(state->step == 20);
  // Both optimizers moved the weights (by up to ~20 lr) the same way, to rounding.
  CHECK((w.detach() - start).abs().max().item<float>() > 10 * kSettings.lr);
  const auto& ref = static_cast<const torch::optim::AdamWParamState&>(
      *reference.state().at(v.unsafeGetTensorImpl()));
  CHECK(ulps_of_largest(w.detach(), v.detach()) <= 4);
  CHECK(ulps_of_largest(state->exp_avg, ref.exp_avg()) <= 4);
  CHECK(ulps_of_largest(state->exp_avg_sq, ref.exp_avg_sq()) <= 4);
}

TEST_CASE("fused AdamW: the same layout gives the same bits; a flat tensor and its pieces agree to rounding",
          "[train][adamw]") {
  const std::vector<int64_t> sizes{1, 15, 17, 1000, 4097, 31, 33};
  int64_t n = 0;
  for (const auto s : sizes) n += s;
  torch::manual_seed(2);
  const auto init = torch::randn({n}) * 0.02;
  auto flat = init.clone(), again = init.clone();
  std::vector<torch::Tensor> pieces;
  for (const auto& piece : init.split_with_sizes(sizes)) pieces.push_back(piece.clone());
  ctxext::train::FusedAdamW whole({flat}, kSettings), repeat({again}, kSettings), split(pieces, kSettings);
  for (int t = 1; t <= 10; ++t) {
    const auto g = grad_at(n, t);
    flat.mutable_grad() = g;
    again.mutable_grad() = g.clone();
    const auto gs = g.split_with_sizes(sizes);
    for (size_t i = 0; i < pieces.size(); ++i) pieces[i].mutable_grad() = gs[i].clone();
    whole.step(kSettings.lr);
    repeat.step(kSettings.lr);
    split.step(kSettings.lr);
  }
  CHECK(torch::equal(flat, again));
  CHECK(ulps_of_largest(torch::cat(pieces), flat) <= 1);
}

TEST_CASE("fused AdamW: tensors without a gradient are left alone", "[train][adamw]") {
  auto a = torch::ones({4}), b = torch::ones({4});
  ctxext::train::FusedAdamW opt({a, b}, kSettings);
  a.mutable_grad() = torch::ones({4});
  opt.step(kSettings.lr);
  CHECK(opt.state(0).has_value());
  CHECK_FALSE(opt.state(1).has_value());
  CHECK(torch::equal(b, torch::ones({4})));
  CHECK(a.lt(1).all().item<bool>());
}

TEST_CASE("fused AdamW: a tensor it cannot step is named", "[train][adamw]") {
  CHECK_THROWS_WITH(ctxext::train::FusedAdamW({torch::ones({2}), torch::ones({2}, torch::kBFloat16)}, kSettings),
                    Contains("tensor 1") && Contains("fp32"));
  CHECK_THROWS_WITH(ctxext::train::FusedAdamW({torch::ones({2, 3}).t()}, kSettings), Contains("contiguous"));
}
