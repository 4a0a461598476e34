// Batching: right padding with pad id and kIgnoreIndex labels, int64 tensors [b, s].
#include <catch2/catch.hpp>
#include <torch/torch.h>

#include "data/batching.h"
#include "data/sample_selection.h"

using namespace ctxext::data;
using Catch::Matchers::Contains;

TEST_CASE("make_batch pads to the longest sample", "[data][batching]") {
  const Sample a{{1, 10, 11, 12}, {kIgnoreIndex, kIgnoreIndex, 11, 12}, "a"};
  const Sample b{{1, 20}, {kIgnoreIndex, 20}, "b"};
  const Batch batch = make_batch({&a, &b});
  CHECK(batch.input_ids.sizes() == torch::IntArrayRef({2, 4}));
  CHECK(batch.input_ids.dtype() == torch::kInt64);
  CHECK(batch.labels.dtype() == torch::kInt64);
  CHECK(torch::equal(batch.input_ids, torch::tensor({1, 10, 11, 12, 1, 20, 0, 0}, torch::kInt64).view({2, 4})));
  CHECK(torch::equal(batch.labels, torch::tensor({-100, -100, 11, 12, -100, 20, -100, -100}, torch::kInt64).view({2, 4})));
  CHECK(torch::equal(batch.lengths, torch::tensor({4, 2}, torch::kInt64)));
  CHECK(torch::equal(make_batch({&b}, 7).input_ids, torch::tensor({1, 20}, torch::kInt64).view({1, 2})));
}

TEST_CASE("make_batch from a sample order position", "[data][batching]") {
  std::vector<Sample> samples;
  for (int64_t i = 0; i < 4; ++i) samples.push_back(Sample{std::vector<int64_t>(i + 1, i), std::vector<int64_t>(i + 1, i), "s"});
  const SampleOrder order(4, 3, true);
  const auto idx = order.take(2, 2);
  const Batch batch = make_batch(samples, idx);
  CHECK(batch.input_ids.size(0) == 2);
  CHECK(batch.input_ids.size(1) == std::max(idx[0], idx[1]) + 1);
  CHECK(batch.input_ids[0][0].item<int64_t>() == idx[0]);
  CHECK_THROWS_WITH(make_batch(samples, {4}), Contains("outside the data set"));
  CHECK_THROWS_WITH(make_batch(std::vector<const Sample*>{}), Contains("no samples"));
}
