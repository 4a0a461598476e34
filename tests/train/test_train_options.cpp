// train:/checkpoint: sections: every bad setting is rejected with the key and the reason.
#include <catch2/catch.hpp>

#include "core/config.h"
#include "train/lr_schedule.h"
#include "train/train_options.h"

using namespace ctxext;
using Catch::Matchers::Contains;

namespace {
TrainOptions parse(const std::string& yaml) {
  return parse_train_options(Config::parse(yaml, "t.yaml").root().child("train"));
}
}  // namespace

TEST_CASE("train options: defaults and accumulation arithmetic", "[train]") {
  const auto o = parse("train:\n  micro_batch_size: 2\n  global_batch_size: 16\n");
  CHECK(o.accumulation_steps() == 8);
  CHECK(o.steps == 6);
}

TEST_CASE("train options: bad settings are rejected by name", "[train]") {
  CHECK_THROWS_WITH(parse("train:\n  lr: -0.1\n"), Contains("t.yaml:2") && Contains("train.lr = -0.1") && Contains("> 0"));
  CHECK_THROWS_WITH(parse("train:\n  lr: 0\n"), Contains("train.lr"));
  CHECK_THROWS_WITH(parse("train:\n  micro_batch_size: 0\n"), Contains("train.micro_batch_size = 0"));
  CHECK_THROWS_WITH(parse("train:\n  global_batch_size: 0\n"), Contains("train.global_batch_size = 0"));
  CHECK_THROWS_WITH(parse("train:\n  micro_batch_size: 3\n  global_batch_size: 16\n"),
                    Contains("train.global_batch_size = 16") && Contains("multiple of micro_batch_size (3)"));
  CHECK_THROWS_WITH(parse("train:\n  steps: 0\n"), Contains("train.steps = 0"));
  CHECK_THROWS_WITH(parse("train:\n  nan_policy: ignore\n"), Contains("abort, skip"));
  CHECK_THROWS_WITH(parse("train:\n  schedule: step\n"), Contains("constant, linear, cosine"));
  CHECK_THROWS_WITH(parse("train:\n  warmup_steps: 10\n  steps: 6\n"), Contains("train.warmup_steps = 10"));
  CHECK_THROWS_WITH(parse("train:\n  beta2: 1.5\n"), Contains("train.beta2"));
  CHECK_THROWS_WITH(parse("train:\n  lr_rate: 1e-5\n"), Contains("unknown key 'train.lr_rate'"));
  CHECK_THROWS_WITH(parse("train:\n  activation_checkpointing: maybe\n"), Contains("expected a boolean"));
}

TEST_CASE("checkpoint options: keep_last must be at least 1", "[train]") {
  auto node = Config::parse("checkpoint:\n  keep_last: 0\n", "t.yaml").root().child("checkpoint");
  CHECK_THROWS_WITH(parse_checkpoint_options(node), Contains("checkpoint.keep_last = 0"));
}

TEST_CASE("lr schedule: warmup then constant, linear and cosine decay", "[train]") {
  TrainOptions o;
  o.lr = 1.0;
  o.steps = 10;
  o.warmup_steps = 2;
  o.min_lr_ratio = 0.1;
  o.schedule = "constant";
  CHECK(learning_rate_at(o, 0) == Approx(0.5));
  CHECK(learning_rate_at(o, 1) == Approx(1.0));
  CHECK(learning_rate_at(o, 9) == Approx(1.0));
  o.schedule = "linear";
  CHECK(learning_rate_at(o, 2) == Approx(1.0));
  CHECK(learning_rate_at(o, 9) == Approx(0.1));
  CHECK(learning_rate_at(o, 5) == Approx(0.1 + 0.9 * (1.0 - 3.0 / 7.0)));
  o.schedule = "cosine";
  CHECK(learning_rate_at(o, 2) == Approx(1.0));
  CHECK(learning_rate_at(o, 9) == Approx(0.1));
  CHECK(learning_rate_at(o, 5) == Approx(0.1 + 0.9 * 0.5 * (1.0 + std::cos(M_PI * 3.0 / 7.0))));
}
