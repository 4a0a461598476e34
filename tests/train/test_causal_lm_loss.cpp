// causal_lm_loss_sum (the fused LM head + loss) equals HF's shifted next-token loss written out
// plainly: logits = linear(hidden, weight).float(), scored at t against labels[t + 1], summed over
// supervised targets. Loss and both gradients, float32 (1e-5 relative), for chunks that do and do
// not divide the sequence, with padding/prompt positions masked.
#include <catch2/catch.hpp>
#include <torch/torch.h>

#include "data/sample.h"
#include "train/causal_lm_loss.h"

using namespace ctxext;

namespace {

// hidden: [b, s, h]; weight: [v, h]; labels: [b, s] -> summed loss, as HF's LlamaForCausalLM computes it.
torch::Tensor plain_loss(const torch::Tensor& weight, const torch::Tensor& hidden, const torch::Tensor& labels) {
  namespace F = torch::nn::functional;
  const auto logits = F::linear(hidden, weight).to(torch::kFloat32).slice(1, 0, -1);  // [b, s - 1, v]
  const auto targets = labels.slice(1, 1);                                              // [b, s - 1]
  return F::cross_entropy(logits.reshape({-1, logits.size(-1)}), targets.reshape({-1}),
                          F::CrossEntropyFuncOptions().ignore_index(data::kIgnoreIndex).reduction(torch::kSum));
}

double rel_diff(const torch::Tensor& a, const torch::Tensor& b) {
  return (a - b).abs().max().item<double>() / b.abs().max().item<double>();
}

}  // namespace

TEST_CASE("causal_lm_loss_sum equals the shifted cross-entropy of the full logits, any chunk", "[train]") {
  torch::manual_seed(7);
  const int64_t b = 2, s = 7, h = 12, v = 29;
  const auto hidden0 = torch::randn({b, s, h});
  const auto weight0 = torch::randn({v, h}) * 0.5;
  auto labels = torch::randint(v, {b, s}, torch::kLong);
  labels.index_put_({0, torch::indexing::Slice(0, 3)}, data::kIgnoreIndex);  // a prompt
  labels.index_put_({1, torch::indexing::Slice(5, 7)}, data::kIgnoreIndex);  // padding
  CHECK(train::count_supervised_targets(labels) == 2 * 6 - 2 - 2);

  auto hr = hidden0.clone().requires_grad_(true);
  auto wr = weight0.clone().requires_grad_(true);
  const auto ref = plain_loss(wr, hr, labels);
  ref.backward();
  for (int64_t chunk : {0, 1, 3, 7, 100}) {
    INFO("chunk " << chunk);
    auto hf = hidden0.clone().requires_grad_(true);
    auto wf = weight0.clone().requires_grad_(true);
    const auto loss = train::causal_lm_loss_sum(wf, hf, labels, chunk);
    loss.backward();
    CHECK(loss.scalar_type() == torch::kFloat32);
    CHECK(std::abs(loss.item<double>() - ref.item<double>()) <= 1e-5 * std::abs(ref.item<double>()));
    CHECK(rel_diff(hf.grad(), hr.grad()) <= 1e-5);
    CHECK(rel_diff(wf.grad(), wr.grad()) <= 1e-5);
    // The last position of every sequence predicts nothing.
    CHECK(hf.grad().select(1, s - 1).abs().max().item<double>() == 0.0);
  }
}
