// train:/checkpoint: sections: every bad setting is rejected with the key and the reason.
#include <catch2/catch.hpp>

#include "core/config.h"
#include "train/lr_schedule.h"
#include "train/train_options.h"

using namespace ctxext;
using Catch::Matchers::Contains;

namespace {
train::TrainOptions parse(const std::string& yaml) {
  return train::parse_train_options(Config::parse(yaml, "t.yaml").root().child("train"));
}
}  // namespace

TEST_CASE("train options: defaults and accumulation arithmetic", "[train]") {
  const auto o = parse("train:\n  epochs: 2\n  micro_batch_size: 2\n  global_batch_size: 16\n");
  CHECK(o.accumulation_steps() == 8);
  CHECK(o.epochs == 2);
  CHECK(o.steps == 0);  // derived once the data is loaded (train_plan.h)
  CHECK(o.drop_last);
  CHECK(parse("train:\n  steps: 6\n").steps == 6);
}

TEST_CASE("train options: the run's length is epochs or steps, and the last partial batch is dropped", "[train]") {
  CHECK_THROWS_WITH(parse("train:\n  lr: 1e-5\n"),
                    Contains("t.yaml") && Contains("'train.epochs' or 'train.steps'"));
  CHECK_THROWS_WITH(parse("train:\n  epochs: 0\n"), Contains("train.epochs = 0"));
  CHECK_THROWS_WITH(parse("train:\n  epochs: 2\n  drop_last: false\n"),
                    Contains("train.drop_last = false") && Contains("only true is supported"));
  const auto both = parse("train:\n  epochs: 2\n  steps: 6\n");
  CHECK(both.epochs == 2);
  CHECK(both.steps == 6);
  // null on the command line takes a key back: the run's length given as steps instead.
  const auto steps = train::parse_train_options(
      Config::parse("train:\n  epochs: 2\n", "t.yaml", {"train.epochs=null", "train.steps=3"}).root().child("train"));
  CHECK(steps.epochs == 0);
  CHECK(steps.steps == 3);
}

TEST_CASE("train options: bad settings are rejected by name", "[train]") {
  CHECK_THROWS_WITH(parse("train:\n  lr: -0.1\n"), Contains("t.yaml:2") && Contains("train.lr = -0.1") && Contains("> 0"));
  CHECK_THROWS_WITH(parse("train:\n  lr: 0\n"), Contains("train.lr"));
  CHECK_THROWS_WITH(parse("train:\n  micro_batch_size: 0\n"), Contains("train.micro_batch_size = 0"));
  CHECK_THROWS_WITH(parse("train:\n  global_batch_size: 0\n"), Contains("train.global_batch_size = 0"));
  CHECK_THROWS_WITH(parse("train:\n  micro_batch_size: 3\n  global_batch_size: 16\n"),
                    Contains("train.global_batch_size = 16") && Contains("multiple of micro_batch_size (3)"));
  CHECK_THROWS_WITH(parse("train:\n  steps: 0\n"), Contains("train.steps = 0"));
  CHECK_THROWS_WITH(parse("train:\n  steps: 6\n  nan_policy: ignore\n"), Contains("abort, skip"));
  CHECK_THROWS_WITH(parse("train:\n  steps: 6\n  schedule: step\n"), Contains("constant, linear, cosine"));
  CHECK_THROWS_WITH(parse("train:\n  warmup_steps: 10\n  steps: 6\n"), Contains("train.warmup_steps = 10"));
  CHECK_THROWS_WITH(parse("train:\n  beta2: 1.5\n"), Contains("train.beta2"));
  CHECK_THROWS_WITH(parse("train:\n  lr_rate: 1e-5\n"), Contains("unknown key 'train.lr_rate'"));
  CHECK_THROWS_WITH(parse("train:\n  activation_checkpointing: maybe\n"), Contains("expected a boolean"));
}

TEST_CASE("checkpoint options: keep_last must be at least 1", "[train]") {
  auto node = Config::parse("checkpoint:\n  keep_last: 0\n", "t.yaml").root().child("checkpoint");
  CHECK_THROWS_WITH(train::parse_checkpoint_options(node), Contains("checkpoint.keep_last = 0"));
}

TEST_CASE("lr schedule: warmup then constant, linear and cosine decay", "[train]") {
  train::TrainOptions o;
  o.lr = 1.0;
  o.warmup_steps = 2;
  o.min_lr_ratio = 0.1;
  o.schedule = train::LrSchedule::constant;
  CHECK(train::learning_rate_at(o, 10, 0) == Approx(0.5));
  CHECK(train::learning_rate_at(o, 10, 1) == Approx(1.0));
  CHECK(train::learning_rate_at(o, 10, 9) == Approx(1.0));
  // Decay over steps 2..10: the floor is reached one step past the last, so the last step learns.
  o.schedule = train::LrSchedule::linear;
  CHECK(train::learning_rate_at(o, 10, 2) == Approx(1.0));
  CHECK(train::learning_rate_at(o, 10, 5) == Approx(0.1 + 0.9 * (1.0 - 3.0 / 8.0)));
  CHECK(train::learning_rate_at(o, 10, 9) == Approx(0.1 + 0.9 / 8.0));
  CHECK(train::learning_rate_at(o, 10, 10) == Approx(0.1));
  o.schedule = train::LrSchedule::cosine;
  CHECK(train::learning_rate_at(o, 10, 2) == Approx(1.0));
  CHECK(train::learning_rate_at(o, 10, 5) == Approx(0.1 + 0.9 * 0.5 * (1.0 + std::cos(M_PI * 3.0 / 8.0))));
  CHECK(train::learning_rate_at(o, 10, 10) == Approx(0.1));
}

TEST_CASE("lr schedule: the paper's cosine over 6 steps, no warmup, decaying to 0", "[train]") {
  // Hugging Face's get_cosine_schedule_with_warmup(num_warmup_steps=0, num_training_steps=6): the
  // optimizer's k-th step uses 0.5 * (1 + cos(pi * k / 6)) x lr.
  train::TrainOptions o;
  o.lr = 2e-5;
  o.schedule = train::LrSchedule::cosine;
  const double expected[] = {1.0, 0.9330127, 0.75, 0.5, 0.25, 0.0669873};
  for (int k = 0; k < 6; ++k) CHECK(train::learning_rate_at(o, 6, k) == Approx(2e-5 * expected[k]).epsilon(1e-6));
}
