// train.offload: optimizer's gradient path on the CPU (FlatShard with a HostCopyQueue): buckets
// reduced and sent to the host during backward (post-accumulate-grad hooks, ZeRO-2) or per layer
// and summed there (ZeRO-3's accumulate) give the same bits as the path without offload, which sums
// every bucket straight into the shard after backward. On the CPU the queue copies synchronously;
// on CUDA the same calls run asynchronously (scripts/gpu_check.sh offload).
#include <catch2/catch.hpp>
#include <torch/torch.h>

#include "dist/communicator.h"
#include "train/flat_shard.h"

using Catch::Matchers::Contains;

namespace {

const ctxext::train::AdamWSettings kSettings{1e-2, 0.9, 0.95, 1e-8, 0.1};
constexpr int64_t kSmallBuckets = 256 * 4;  // 256 fp32 elements per bucket: many buckets

// Named like the model's parameters: the embedding and LM head get no hook, the decoder layers do.
ctxext::train::NamedTensors make_params() {
  torch::manual_seed(7);
  ctxext::train::NamedTensors p;
  p.emplace_back("model.embed_tokens.weight", torch::randn({37, 16}) * 0.1);
  for (int i = 0; i < 4; ++i) {
    p.emplace_back("model.layers." + std::to_string(i) + ".w", torch::randn({16, 16}) * 0.3);
    p.emplace_back("model.layers." + std::to_string(i) + ".b", torch::randn({16}) * 0.1);
  }
  p.emplace_back("lm_head.weight", torch::randn({16, 37}) * 0.1);
  for (auto& [name, t] : p) t.requires_grad_(true);
  return p;
}

// Backward of a small language-model-like loss on batch `seed`; gradients add up in .grad.
void backward(const ctxext::train::NamedTensors& p, int seed) {
  torch::manual_seed(1000 + seed);
  const auto ids = torch::randint(0, 37, {8});
  auto x = p.front().second.index_select(0, ids);  // [8, 16]
  for (int i = 0; i < 4; ++i) x = torch::tanh(x.matmul(p[1 + 2 * i].second) + p[2 + 2 * i].second);
  const auto logits = x.matmul(p.back().second);  // [8, 37]
  torch::nn::functional::cross_entropy(logits, torch::randint(0, 37, {8})).backward();
}

void drop_grads(const ctxext::train::NamedTensors& p) {
  for (const auto& [name, t] : p) {
    auto param = t;
    param.mutable_grad() = torch::Tensor();
  }
}

void check_same(const ctxext::train::NamedTensors& a, const ctxext::train::NamedTensors& b,
                const ctxext::train::FlatShard& sa, const ctxext::train::FlatShard& sb) {
  for (size_t i = 0; i < a.size(); ++i) {
    INFO(a[i].first);
    CHECK(torch::equal(a[i].second, b[i].second));
  }
  const auto ta = sa.state_tensors(""), tb = sb.state_tensors("");
  for (const auto& [key, t] : ta) {
    INFO(key);
    CHECK(torch::equal(t, tb.at(key)));
  }
}

}  // namespace

TEST_CASE("flat shard offload: buckets sent during backward give the bits of reducing after it", "[train][offload]") {
  ctxext::dist::Communicator comm;
  auto a = make_params(), b = make_params();
  ctxext::train::HostCopyQueue queue;
  ctxext::train::FlatShard plain(a, comm, kSettings, torch::kCPU);
  ctxext::train::FlatShard offloaded(b, comm, kSettings, torch::kCPU, &queue, kSmallBuckets);
  offloaded.reduce_in_backward();
  size_t started_per_step = 0;
  for (int step = 0; step < 4; ++step) {
    for (int micro = 0; micro < 2; ++micro) {  // gradient accumulation: hooks armed for the last only
      const size_t before = offloaded.buckets_started_in_backward();
      offloaded.arm(micro == 1);
      backward(a, 2 * step + micro);
      backward(b, 2 * step + micro);
      if (micro == 0) CHECK(offloaded.buckets_started_in_backward() == before);
      if (micro == 1 && step == 0) started_per_step = offloaded.buckets_started_in_backward() - before;
    }
    plain.reduce_scatter_grads(/*accumulate=*/false, "test reduce");
    offloaded.reduce_scatter_grads(/*accumulate=*/false, "test reduce");
    CHECK(plain.local_grad_sum_of_squares() == offloaded.local_grad_sum_of_squares());
    drop_grads(a);
    drop_grads(b);
    plain.step(kSettings.lr, 0.5);
    offloaded.step(kSettings.lr, 0.5);
    plain.all_gather_params("test gather");
    offloaded.all_gather_params("test gather");
  }
  // 4 layers x 272 parameters = 1,088 hooked elements: the buckets wholly inside them started early,
  // the ones touching the embedding or the LM head after backward; every bucket went through the queue.
  const int64_t buckets = (37 * 16 + 4 * 272 + 16 * 37 + 255) / 256;
  CHECK(started_per_step >= 3);
  CHECK(started_per_step < size_t(buckets));
  CHECK(offloaded.buckets_started_in_backward() == 4 * started_per_step);
  CHECK(queue.started() == size_t(4 * buckets));
  check_same(a, b, plain, offloaded);
}

TEST_CASE("flat shard offload: gradients summed on the host over micro-batches (ZeRO-3's path) give the same bits",
          "[train][offload]") {
  ctxext::dist::Communicator comm;
  auto a = make_params(), b = make_params();
  ctxext::train::HostCopyQueue queue(/*max_in_flight=*/1);
  ctxext::train::FlatShard plain(a, comm, kSettings, torch::kCPU);
  ctxext::train::FlatShard offloaded(b, comm, kSettings, torch::kCPU, &queue, kSmallBuckets);
  for (int step = 0; step < 3; ++step) {
    plain.zero_grad();
    offloaded.zero_grad();
    for (int micro = 0; micro < 3; ++micro) {
      backward(a, 3 * step + micro);
      backward(b, 3 * step + micro);
      plain.reduce_scatter_grads(/*accumulate=*/true, "test reduce");
      offloaded.start_reduce_scatter_grads(/*accumulate=*/true, "test reduce");
      drop_grads(a);
      drop_grads(b);
    }
    queue.finish();
    CHECK(plain.local_grad_sum_of_squares() == offloaded.local_grad_sum_of_squares());
    plain.step(kSettings.lr, 1.0);
    offloaded.step(kSettings.lr, 1.0);
    plain.all_gather_params("test gather");
    offloaded.all_gather_params("test gather");
  }
  check_same(a, b, plain, offloaded);
}

TEST_CASE("flat shard offload: hooks need the host copy queue", "[train][offload]") {
  ctxext::dist::Communicator comm;
  ctxext::train::FlatShard shard(make_params(), comm, kSettings, torch::kCPU);
  CHECK_THROWS_WITH(shard.reduce_in_backward(), Contains("train.offload: optimizer"));
}
