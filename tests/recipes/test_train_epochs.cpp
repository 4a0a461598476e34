// train.epochs end to end: the derived number of steps, each epoch starting at its own boundary of
// the sample order (the partial batch dropped), resume across that boundary, and a resume whose
// data no longer matches the checkpoint's data position refused.
#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>
#include <sstream>

#include "core/config.h"
#include "data/dataset.h"
#include "data/sample_selection.h"
#include "recipes/train_recipe.h"
#include "support/test_support.h"
#include "train_fixture.h"
#include "train_runs.h"

using namespace ctxext;
using namespace ctxext::testing;
using Catch::Matchers::Contains;

namespace {


// 10 samples, global batch 4, 2 epochs: floor(10 / 4) = 2 steps per epoch, 2 samples dropped per epoch.
const std::vector<std::string> kTwoEpochs = {"train.steps=null", "train.epochs=2", "data.num_samples=10",
                                             "train.schedule=constant", "train.warmup_steps=0",
                                             "checkpoint.every_steps=0"};

std::vector<std::string> with(std::vector<std::string> overrides, const std::vector<std::string>& more) {
  overrides.insert(overrides.end(), more.begin(), more.end());
  return overrides;
}

}  // namespace

TEST_CASE("train: epochs give floor(samples / batch) steps each, every epoch from its own start", "[train][recipe]") {
  TempDir dir;
  write_text(dir / "c.yaml", tiny_train_yaml((dir / "run").string()));
  run_recipe(dir / "c.yaml", with(kTwoEpochs, {"export.enabled=false"}));
  const auto rows = read_metrics(dir / "run" / "metrics.jsonl");
  REQUIRE(rows.size() == 4);

  // Which samples each step read, seen through its supervised-token count.
  const auto job = recipes::parse_job_config(Config::load((dir / "c.yaml").string(), kTwoEpochs));
  const auto dataset = data::load_dataset(job.data, data::Tokenizer::load(job.data.tokenizer));
  REQUIRE(dataset.samples.size() == 10);
  const data::SampleOrder order(10, job.data.seed, job.data.shuffle);
  const auto supervised = [&](int64_t position) {
    int64_t n = 0;
    for (int64_t index : order.take(position, 4)) n += dataset.samples[index].num_supervised();
    return n;
  };
  // Epoch 0 reads positions 0-7, epoch 1 starts at 10: positions 8-9 of each epoch's order are skipped.
  const std::vector<int64_t> starts = {0, 4, 10, 14};
  for (size_t i = 0; i < rows.size(); ++i) {
    INFO("step " << i + 1);
    CHECK(rows[i]["tokens"].get<int64_t>() == supervised(starts[i]));
  }
  // Reading on without the jump (positions 8-11) would have been told apart.
  CHECK(supervised(8) != supervised(10));
}

TEST_CASE("train: a run resumed across an epoch boundary ends where the uninterrupted one does", "[train][recipe]") {
  TempDir dir;
  write_text(dir / "c.yaml", tiny_train_yaml((dir / "unused").string()));
  run_recipe(dir / "c.yaml", with(kTwoEpochs, {"output_dir=" + (dir / "whole").string()}));
  // The same run stopped after step 3 (the first step of epoch 1), then resumed to the end.
  run_recipe(dir / "c.yaml", with(kTwoEpochs, {"train.epochs=null", "train.steps=3",
                                               "output_dir=" + (dir / "split").string()}));
  run_recipe(dir / "c.yaml", with(kTwoEpochs, {"output_dir=" + (dir / "split").string()}));
  CHECK(read_text(dir / "split" / "export" / "model.safetensors") ==
        read_text(dir / "whole" / "export" / "model.safetensors"));
}

TEST_CASE("train: a resume on data that moved the checkpoint's data position is refused", "[train][recipe]") {
  TempDir dir;
  write_text(dir / "c.yaml", tiny_train_yaml((dir / "run").string()));
  std::vector<std::string> records;
  std::istringstream in(read_text("data/samples/tiny_chat.jsonl"));
  for (std::string line; std::getline(in, line);) records.push_back(line);
  const auto write_records = [&](size_t n) {
    std::string text;
    for (size_t i = 0; i < n; ++i) text += records.at(i) + "\n";
    write_text(dir / "chat.jsonl", text);
  };
  const auto overrides = with(kTwoEpochs, {"data.num_samples=0", "data.path=" + (dir / "chat.jsonl").string(),
                                           "export.enabled=false"});
  write_records(10);
  run_recipe(dir / "c.yaml", overrides);  // 4 steps: the checkpoint of step 4 is at position 2 x 10
  // One more conversation in the same file: 11 samples put step 4 at 2 x 11 = 22.
  write_records(11);
  CHECK_THROWS_WITH(run_recipe(dir / "c.yaml", with(overrides, {"train.epochs=3"})),
                    Contains("step-4") && Contains("step 4 and data position 20") && Contains("at position 22") &&
                        Contains("the data or the batch changed"));
}
