// Held-out eval loss (train.eval_every, data.eval_path): every N optimizer steps and at the last, the
// mean next-token loss over data.eval_path's samples goes into metrics.jsonl as eval_loss (+ eval_tokens),
// computed as the training loss is (checked against the training loss of the same samples), without
// changing the training (losses and weights bitwise those of the run without it), in one process and
// over ranks (each rank scores its share, the sums are all-reduced; ZeRO-3 gathers the weights first).
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <sstream>

#include "rank_launcher.h"
#include "recipes/job_config.h"
#include "train_fixture.h"
#include "train_runs.h"

using namespace ctxext;
using namespace ctxext::testing;
using Catch::Matchers::Contains;

namespace {

// The first `count` records of the tiny ShareGPT file as a held-out file.
fs::path eval_file(const TempDir& dir, int count) {
  std::istringstream in(read_text("data/samples/tiny_chat.jsonl"));
  std::string text;
  for (std::string line; static_cast<int>(std::count(text.begin(), text.end(), '\n')) < count && std::getline(in, line);)
    text += line + "\n";
  const fs::path file = dir / ("eval" + std::to_string(count) + ".jsonl");
  write_text(file, text);
  return file;
}

std::vector<std::string> with_eval(std::vector<std::string> overrides, const fs::path& file, int every) {
  overrides.push_back("data.eval_path=" + file.string());
  overrides.push_back("train.eval_every=" + std::to_string(every));
  return overrides;
}

}  // namespace

TEST_CASE("train eval loss: every N steps and at the last, training unchanged", "[train][recipe][eval_loss]") {
  TempDir dir;
  write_text(dir / "c.yaml", tiny_train_yaml("unused"));
  const std::vector<std::string> common{"train.steps=5", "checkpoint.every_steps=2"};
  auto off = common, on = with_eval(common, eval_file(dir, 3), 2);
  off.push_back("output_dir=" + (dir / "off").string());
  on.push_back("output_dir=" + (dir / "on").string());
  run_recipe(dir / "c.yaml", off);
  run_recipe(dir / "c.yaml", on);
  const auto a = read_metrics(dir / "off" / "metrics.jsonl"), b = read_metrics(dir / "on" / "metrics.jsonl");
  REQUIRE(a.size() == 5);
  REQUIRE(b.size() == 5);
  for (size_t i = 0; i < a.size(); ++i) {
    INFO("step " << i + 1);
    CHECK(a[i]["loss"].get<double>() == b[i]["loss"].get<double>());  // bitwise: eval touches no RNG, no weight
    CHECK(a[i]["grad_norm"].get<double>() == b[i]["grad_norm"].get<double>());
    CHECK_FALSE(a[i].contains("eval_loss"));
    const bool evaluated = i + 1 == 2 || i + 1 == 4 || i + 1 == 5;  // every 2 steps, and the last
    CHECK(b[i].contains("eval_loss") == evaluated);
    CHECK(b[i].contains("eval_tokens") == evaluated);
    if (evaluated) {
      CHECK(std::isfinite(b[i]["eval_loss"].get<double>()));
      CHECK(b[i]["eval_loss"].get<double>() > 0.0);
      CHECK(b[i]["eval_tokens"].get<int64_t>() > 0);
    }
  }
  CHECK(read_text(dir / "off" / "export" / "model.safetensors") == read_text(dir / "on" / "export" / "model.safetensors"));
  // The model learns the tiny file: the held-out loss of its first records falls too.
  CHECK(b[4]["eval_loss"].get<double>() < b[1]["eval_loss"].get<double>());
}

TEST_CASE("train eval loss: the training loss of the same samples, and printed in the progress line",
          "[train][recipe][eval_loss]") {
  // One step at lr 1e-12 leaves the weights as they were: the eval loss after it is the step's
  // training loss when the held-out file holds exactly the step's samples (the first 4, unshuffled).
  TempDir dir;
  write_text(dir / "c.yaml", tiny_train_yaml((dir / "run").string()));
  const auto r = train_process(dir / "c.yaml", dir / "run",
                               with_eval({"train.steps=1", "train.lr=1e-12", "train.max_grad_norm=0",
                                          "data.shuffle=false", "data.num_samples=4", "export.enabled=false"},
                                         eval_file(dir, 4), 1));
  INFO(r.output);
  REQUIRE(r.exit_code == 0);
  const auto rows = read_metrics(dir / "run" / "metrics.jsonl");
  REQUIRE(rows.size() == 1);
  CHECK(rows[0]["eval_tokens"] == rows[0]["tokens"]);
  CHECK(rows[0]["eval_loss"].get<double>() == Approx(rows[0]["loss"].get<double>()).epsilon(1e-5));
  CHECK_THAT(r.output, Contains(fmt::format("eval {:.4f}", rows[0]["eval_loss"].get<double>())));
  CHECK_THAT(r.output, Contains("eval: held-out loss every 1 steps"));  // the plan says what is scored
}

TEST_CASE("train eval loss: over 2 ranks the sums of each rank's share, ZeRO-3 included",
          "[train][dist][eval_loss]") {
  // 3 held-out samples over 2 ranks: rank 0 scores 2, rank 1 scores 1 (no collective inside the eval).
  TempDir dir;
  write_text(dir / "c.yaml", tiny_train_yaml("unused"));
  const auto overrides = with_eval({"train.micro_batch_size=1", "train.steps=3", "checkpoint.every_steps=0"},
                                   eval_file(dir, 3), 2);
  const auto args = [&](const fs::path& out, std::vector<std::string> extra) {
    std::vector<std::string> a{"train", (dir / "c.yaml").string(), "output_dir=" + out.string()};
    a.insert(a.end(), overrides.begin(), overrides.end());
    a.insert(a.end(), extra.begin(), extra.end());
    return a;
  };
  const auto single = run_ctxext(args(dir / "single", {}));
  INFO(single.output);
  REQUIRE(single.exit_code == 0);
  const auto expected = read_metrics(dir / "single" / "metrics.jsonl");
  for (const std::string sharding : {"none", "full"}) {
    DYNAMIC_SECTION("sharding " << sharding) {
      const fs::path out = dir / ("dp-" + sharding);
      const auto ranks = run_ranks(2, args(out, {"train.sharding=" + sharding}), dir.path());
      for (size_t r = 0; r < ranks.size(); ++r) {
        INFO("rank " << r << " log:\n" << ranks[r].log);
        REQUIRE(ranks[r].exit_code == 0);
      }
      const auto got = read_metrics(out / "metrics.jsonl");
      REQUIRE(got.size() == expected.size());
      for (size_t i = 0; i < got.size(); ++i) {
        INFO("step " << i + 1);
        REQUIRE(got[i].contains("eval_loss") == expected[i].contains("eval_loss"));
        if (!got[i].contains("eval_loss")) continue;
        CHECK(got[i]["eval_tokens"] == expected[i]["eval_tokens"]);
        CHECK(got[i]["eval_loss"].get<double>() == Approx(expected[i]["eval_loss"].get<double>()).epsilon(1e-5));
      }
      // The training itself is the one without eval, bitwise (the same job without the two keys).
      const fs::path plain = dir / ("plain-" + sharding);
      std::vector<std::string> no_eval{"train", (dir / "c.yaml").string(), "output_dir=" + plain.string(),
                                       "train.micro_batch_size=1", "train.steps=3", "checkpoint.every_steps=0",
                                       "train.sharding=" + sharding};
      for (const auto& r : run_ranks(2, no_eval, dir.path())) REQUIRE(r.exit_code == 0);
      const auto reference = read_metrics(plain / "metrics.jsonl");
      REQUIRE(reference.size() == got.size());
      for (size_t i = 0; i < got.size(); ++i) CHECK(got[i]["loss"].get<double>() == reference[i]["loss"].get<double>());
      CHECK(read_text(out / "export" / "model.safetensors") == read_text(plain / "export" / "model.safetensors"));
    }
  }
}

TEST_CASE("train eval loss: one key without the other is refused, naming both", "[train][config][eval_loss]") {
  TempDir dir;
  write_text(dir / "c.yaml", tiny_train_yaml((dir / "run").string()));
  const auto parse = [&](const std::vector<std::string>& overrides) {
    return recipes::parse_job_config(Config::load((dir / "c.yaml").string(), overrides));
  };
  CHECK_THROWS_WITH(parse({"train.eval_every=2"}), Contains("train.eval_every") && Contains("data.eval_path"));
  CHECK_THROWS_WITH(parse({"data.eval_path=x.jsonl"}), Contains("data.eval_path") && Contains("train.eval_every"));
  CHECK_THROWS_WITH(parse({"train.eval_every=-1", "data.eval_path=x.jsonl"}), Contains("train.eval_every"));
  const auto job = parse({"train.eval_every=3", "data.eval_path=x.jsonl"});
  CHECK(job.train.eval_every == 3);
  CHECK(job.data.eval_path == fs::absolute("x.jsonl").lexically_normal().string());
  // A held-out file that is not there is met before the weights, like data.path.
  const auto r = run_ctxext({"validate", (dir / "c.yaml").string(), "train.eval_every=2",
                             "data.eval_path=" + (dir / "none.jsonl").string()});
  INFO(r.output);
  CHECK(r.exit_code == 2);
  CHECK_THAT(r.output, Contains("data.eval_path") && Contains("none.jsonl") && Contains("does not exist"));
}
