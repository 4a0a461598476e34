// AdamW state survives a save/load by name: continuing from restored state equals continuing from
// the original, bit for bit; bf16 master weights update in fp32.
#include <catch2/catch.hpp>
#include <torch/torch.h>

#include "train/master_weights.h"
#include "train/optimizer_state.h"

using namespace ctxext;
using Catch::Matchers::Contains;

namespace {
void fake_step(train::FusedAdamW& opt, const torch::Tensor& w, int salt) {
  w.mutable_grad() = torch::full_like(w, 0.1 * salt) + w.detach() * 0.01;
  opt.step(1e-2);
}
}  // namespace

TEST_CASE("optimizer state: restored AdamW continues bit-identically", "[train]") {
  torch::manual_seed(1);
  auto w = torch::randn({4, 3}).requires_grad_(true);
  auto w2 = w.detach().clone().requires_grad_(true);
  const train::AdamWSettings settings{1e-2, 0.9, 0.95, 1e-8, 0.1};
  train::FusedAdamW a({w}, settings), b({w2}, settings);
  fake_step(a, w, 1);
  fake_step(a, w, 2);
  {
    torch::NoGradGuard g;
    w2.copy_(w);
  }
  const auto saved = train::adamw_state_tensors(a, {{"w", w}});
  CHECK(saved.size() == 3);
  CHECK(saved.at("step.w").item<int64_t>() == 2);
  train::load_adamw_state(b, {{"w", w2}}, saved, "opt.safetensors");
  fake_step(a, w, 3);
  fake_step(b, w2, 3);
  CHECK(torch::equal(w, w2));
}

TEST_CASE("optimizer state: a missing parameter is named", "[train]") {
  auto w = torch::zeros({2}).requires_grad_(true);
  train::FusedAdamW opt({w}, {});
  CHECK_THROWS_WITH(train::load_adamw_state(opt, {{"layer.w", w}}, {}, "opt.safetensors"),
                    Contains("opt.safetensors") && Contains("'layer.w'"));
}

TEST_CASE("master weights: bf16 parameters are updated through fp32 masters", "[train]") {
  auto p = torch::ones({8}, torch::kBFloat16).requires_grad_(true);
  train::MasterWeights masters({{"p", p}});
  REQUIRE(masters.separate());
  REQUIRE(masters.masters()[0].second.scalar_type() == torch::kFloat32);
  torch::optim::SGD sgd(masters.master_tensors(), torch::optim::SGDOptions(1e-3));
  for (int i = 0; i < 4; ++i) {
    p.mutable_grad() = torch::ones_like(p);
    masters.grads_to_masters();
    sgd.step();
    masters.masters_to_model();
  }
  // 1 - 4e-3 is not representable in bf16 steps of 1e-3 from 1.0 (spacing 2^-8 below 1),
  // but the fp32 master keeps the exact sum.
  CHECK(masters.masters()[0].second[0].item<float>() == Approx(1.0f - 4e-3f));
  CHECK(p[0].item<float>() == Approx(1.0f - 4e-3f).epsilon(4e-3));
}

TEST_CASE("master weights: fp32 parameters are their own masters", "[train]") {
  auto p = torch::ones({3}).requires_grad_(true);
  train::MasterWeights masters({{"p", p}});
  CHECK_FALSE(masters.separate());
  CHECK(masters.masters()[0].second.is_same(p));
}
