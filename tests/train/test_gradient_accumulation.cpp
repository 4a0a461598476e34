// Accumulating 4 micro-batches of 1 sample gives the gradients of one batch of 4 (fp32, 1e-6),
// with samples of different lengths (so the big batch pads) and prompt tokens masked.
#include <catch2/catch.hpp>
#include <torch/torch.h>

#include "model/llama_init.h"
#include "support/small_llama_config.h"
#include "train/gradient_accumulation.h"

using namespace ctxext;

namespace {
data::Sample make_sample(int64_t length, int64_t prompt, int64_t seed) {
  data::Sample s;
  for (int64_t i = 0; i < length; ++i) {
    s.input_ids.push_back(1 + (seed * 31 + i * 7) % 97);
    s.labels.push_back(i < prompt ? data::kIgnoreIndex : s.input_ids.back());
  }
  return s;
}

std::map<std::string, torch::Tensor> gradients(model::LlamaForCausalLMImpl& model, const std::vector<data::Batch>& batches,
                                               double* loss) {
  model.zero_grad(true);
  *loss = train::accumulate_gradients(model, batches, torch::kCPU, 5).loss;  // chunk 5: the chunked path too
  std::map<std::string, torch::Tensor> out;
  for (const auto& p : model.named_parameters()) out[p.key()] = p.value().grad().clone();
  return out;
}
}  // namespace

TEST_CASE("accumulation 4 x micro-batch 1 equals micro-batch 4", "[train]") {
  const model::LlamaConfig config = testing::small_llama_config(100, 32, 64, 2, 256);
  auto model = model::make_random_llama(config, 3);
  const std::vector<data::Sample> samples = {make_sample(12, 3, 1), make_sample(7, 2, 2), make_sample(16, 5, 3),
                                             make_sample(9, 0, 4)};

  double loss_whole = 0, loss_accumulated = 0;
  const auto whole = gradients(*model, {data::make_batch(samples, {0, 1, 2, 3})}, &loss_whole);
  std::vector<data::Batch> singles;
  for (int64_t i = 0; i < 4; ++i) singles.push_back(data::make_batch(samples, {i}));
  const auto accumulated = gradients(*model, singles, &loss_accumulated);

  CHECK(loss_accumulated == Approx(loss_whole).epsilon(1e-6));
  for (const auto& [name, g] : whole) {
    const double scale = g.abs().max().item<double>();
    const double diff = (accumulated.at(name) - g).abs().max().item<double>();
    INFO(name << ": max |diff| " << diff << ", max |grad| " << scale);
    CHECK(scale > 0);
    CHECK(diff <= 1e-6 * scale);
  }
}
