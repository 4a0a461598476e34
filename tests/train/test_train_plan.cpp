// resolve_steps: the optimizer steps from epochs (or as given) over the samples the length policy
// kept, and where each step's batch starts in the sample order.
#include <catch2/catch.hpp>

#include "train/train_plan.h"

using namespace ctxext;
using Catch::Matchers::Contains;

namespace {
train::TrainOptions options(int64_t epochs, int64_t steps, int64_t global_batch = 32) {
  train::TrainOptions o;
  o.epochs = epochs;
  o.steps = steps;
  o.micro_batch_size = 1;
  o.global_batch_size = global_batch;
  return o;
}
}  // namespace

TEST_CASE("train plan: the paper's 100 samples x 2 epochs at batch 32 are 6 steps", "[train]") {
  const train::TrainPlan plan = train::resolve_steps(options(2, 0), 100);
  CHECK(plan.steps_per_epoch == 3);
  CHECK(plan.steps == 6);
  CHECK(plan.epochs == 2);
  CHECK(plan.dropped_per_epoch == 4);
  CHECK(plan.describe() == "6 steps = 2 epochs x 3 steps of global batch 32 over 100 samples (4 dropped per epoch)");
  // Epoch 0 reads positions 0-95, epoch 1 starts at its own boundary, 100: samples 96-99 of each
  // epoch's order are skipped.
  const std::vector<int64_t> starts = {0, 32, 64, 100, 132, 164, 200};
  for (int64_t step = 0; step <= 6; ++step) CHECK(plan.data_position_at(step) == starts[step]);
}

TEST_CASE("train plan: steps given alone, or agreeing with the epochs", "[train]") {
  const train::TrainPlan given = train::resolve_steps(options(0, 7), 100);
  CHECK(given.steps == 7);
  CHECK(given.epochs == 3);  // 3 steps per epoch: the seventh step opens a third epoch
  CHECK(given.data_position_at(6) == 200);
  CHECK_THAT(given.describe(), Contains("7 steps of global batch 32 over 100 samples") && Contains("3 epochs"));
  CHECK(train::resolve_steps(options(2, 6), 100).steps == 6);
  // No sample is dropped when the batch divides the samples: positions run on contiguously.
  const train::TrainPlan even = train::resolve_steps(options(3, 0, 4), 8);
  CHECK(even.steps == 6);
  CHECK(even.dropped_per_epoch == 0);
  for (int64_t step = 0; step <= 6; ++step) CHECK(even.data_position_at(step) == 4 * step);
}

TEST_CASE("train plan: epochs and steps that disagree fail naming both and the derived steps", "[train]") {
  CHECK_THROWS_WITH(train::resolve_steps(options(2, 8), 100),
                    Contains("train.epochs = 2") && Contains("train.steps = 8") && Contains("disagree") &&
                        Contains("make 6 steps") && Contains("floor(100 samples / global batch 32) = 3"));
}

TEST_CASE("train plan: fewer samples than one global batch fail clearly", "[train]") {
  CHECK_THROWS_WITH(train::resolve_steps(options(2, 0), 31),
                    Contains("train.global_batch_size = 32") && Contains("31 samples") && Contains("not one full"));
  CHECK_NOTHROW(train::resolve_steps(options(2, 0), 32));
}

TEST_CASE("train plan: warmup longer than the derived steps fails", "[train]") {
  train::TrainOptions o = options(2, 0);
  o.warmup_steps = 7;
  CHECK_THROWS_WITH(train::resolve_steps(o, 100), Contains("train.warmup_steps = 7") && Contains("the 6 steps"));
  o.warmup_steps = 6;
  CHECK(train::resolve_steps(o, 100).steps == 6);
}
