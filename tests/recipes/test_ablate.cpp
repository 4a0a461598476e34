// ctxext ablate through the binary: the micro config as a 2 seeds x 2 data sizes grid end to end
// (per-cell records, results.json with intervals over seeds, results.md, plots), resuming (finished
// cells kept, changed evaluation options re-evaluated without retraining, a changed training config
// refused), and bad configs exiting 2 with one line naming the key, before anything is written.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "support/test_support.h"

using Catch::Matchers::Contains;
namespace fs = std::filesystem;

namespace {

void expect_error(const std::vector<std::string>& args, const std::string& needle) {
  const auto r = ctxext::testing::run_ctxext(args);
  INFO(r.output);
  CHECK(r.exit_code == 2);
  CHECK_THAT(r.output, Contains("error: ") && Contains(needle));
}

int64_t count(const std::string& text, const std::string& needle) {
  int64_t n = 0;
  for (size_t at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1)) ++n;
  return n;
}

}  // namespace

TEST_CASE("cli ablate: a 2 seeds x 2 sizes micro grid end to end, then resumed", "[recipes][ablate]") {
  ctxext::testing::TempDir dir;
  const auto out = dir / "abl";
  const std::vector<std::string> grid = {"ablate", "configs/tiny/ablation_micro.yaml", "output_dir=" + out.string(),
                                         "seeds=[0, 1]", "num_samples=[2, 4]"};
  const auto r = ctxext::testing::run_ctxext(grid);
  INFO(r.output);
  REQUIRE(r.exit_code == 0);
  // none is a random preset here: one cell per seed; eabf: 2 sizes x 2 seeds. One ETA line per cell.
  CHECK_THAT(r.output, Contains("6 cells, 0 finished before, 6 to run"));
  CHECK_THAT(r.output, Contains("ablation cell [1/6] none seed=0: base model") &&
                           Contains("ablation cell [6/6] eabf n=4 seed=1: training"));
  CHECK(count(r.output, "ablation grid ") == 6);
  CHECK_THAT(r.output, Contains("ablation grid 6/6 eabf n=4 seed=1 done") && Contains("eta"));
  CHECK(fs::is_regular_file(out / "eabf" / "n2-seed1" / "ablation_cell.json"));
  CHECK(fs::is_regular_file(out / "eabf" / "n4-seed0" / "export" / "config.json"));

  const auto results = nlohmann::json::parse(ctxext::testing::read_text(out / "results.json"));
  CHECK(results["seeds"] == nlohmann::json({0, 1}));
  CHECK(results["num_samples"] == nlohmann::json({2, 4}));
  CHECK(results["confidence"] == 0.95);
  REQUIRE(results["cells"].size() == 6);
  CHECK(results["cells"][2]["name"] == "eabf");
  CHECK(results["cells"][2]["num_samples"] == 2);
  CHECK(results["cells"][2]["seed"] == 0);
  CHECK(results["cells"][2]["train_seconds"].get<double>() > 0.0);
  const auto& methods = results["methods"];
  REQUIRE(methods.size() == 3);  // none, eabf at 2 samples, eabf at 4
  CHECK(methods[0]["name"] == "none");
  CHECK(methods[0]["num_samples"].is_null());
  CHECK(methods[1]["num_samples"] == 2);
  CHECK(methods[2]["num_samples"] == 4);
  for (const auto& m : methods) {
    CHECK(m["n"] == 2);
    CHECK(m["seeds"] == nlohmann::json({0, 1}));
    REQUIRE(m["ppl"].size() == 2);
    for (const auto& p : m["ppl"]) {
      REQUIRE(p["values"].size() == 2);
      const double a = p["values"][0], b = p["values"][1];
      CHECK(p["mean"].get<double>() == Approx((a + b) / 2));
      // Two seeds: t(0.975, 1) = 12.706 times the standard error |a - b| / 2.
      CHECK(p["high"].get<double>() - p["mean"].get<double>() == Approx(12.7062047 * std::abs(a - b) / 2).epsilon(1e-6));
    }
    REQUIRE(m["passkey"].size() == 2);
    for (const auto& p : m["passkey"]) {
      CHECK(p["trials"] == 4);  // 2 depths x 1 trial x 2 seeds
      CHECK(p["wilson_low"].get<double>() <= p["rate"].get<double>());
      CHECK(p["wilson_high"].get<double>() >= p["rate"].get<double>());
      CHECK(p["wilson_high"].get<double>() > p["wilson_low"].get<double>());
    }
    CHECK(m["passkey_cells"].size() == 4);
    REQUIRE(m["entropy"].size() == 2);
    CHECK(m["entropy"][0]["per_layer_low"].size() == 2);
    REQUIRE(m["longbench"].size() == 2);
    CHECK(m["longbench"][1]["task"] == "trec");
  }
  const auto md = ctxext::testing::read_text(out / "results.md");
  CHECK_THAT(md, Contains("| method | samples | seeds | train s") && Contains("| ppl@128") && Contains(" ± ") && Contains("/4 W [") &&
                     Contains("LB trec") && Contains("Student-t") && Contains("Wilson"));
  for (const char* png : {"ppl_vs_length.png", "passkey_vs_length.png", "ppl_vs_size.png", "passkey_vs_size.png",
                          "passkey_none.png", "passkey_eabf.png", "passkey_all.png", "entropy_per_layer.png"})
    CHECK(fs::is_regular_file(out / png));

  // Run again: every cell is kept, nothing trains or evaluates; the results are the same.
  const auto again = ctxext::testing::run_ctxext(grid);
  INFO(again.output);
  REQUIRE(again.exit_code == 0);
  CHECK(count(again.output, "finished before, kept") == 6);
  CHECK_THAT(again.output, !Contains(": training") && !Contains("evaluating"));
  const auto kept = nlohmann::json::parse(ctxext::testing::read_text(out / "results.json"));
  CHECK(kept["methods"] == methods);

  // Another evaluation option: re-evaluated from the exports, not retrained.
  auto reeval = grid;
  reeval.push_back("eval.passkey.trials=2");
  const auto r2 = ctxext::testing::run_ctxext(reeval);
  INFO(r2.output);
  REQUIRE(r2.exit_code == 0);
  CHECK(count(r2.output, "trained before; evaluating") == 4);
  CHECK_THAT(r2.output, !Contains(": training"));
  const auto r2_results = nlohmann::json::parse(ctxext::testing::read_text(out / "results.json"));
  CHECK(r2_results["methods"][1]["passkey"][0]["trials"] == 8);
  CHECK(r2_results["cells"][2]["train_seconds"] == results["cells"][2]["train_seconds"]);

  // Another training config for a finished cell: refused before anything runs, the cell is kept.
  auto changed = grid;
  changed.push_back("methods=[{name: none}, {name: eabf, rope: {type: eabf, factor: 2, skip_layers: 1}}]");
  expect_error(changed, "was run with another training config");
  expect_error(changed, "skip_layers: 1");
  CHECK(fs::is_regular_file(out / "eabf" / "n2-seed0" / "ablation_cell.json"));
}

TEST_CASE("cli ablate: bad configs and grid axes exit 2 naming the key, before anything is written", "[recipes][ablate]") {
  ctxext::testing::TempDir dir;
  const auto x = (dir / "x").string();
  const auto micro = [&](const std::string& assignment) {
    return std::vector<std::string>{"ablate", "configs/tiny/ablation_micro.yaml", "output_dir=" + x, assignment};
  };
  expect_error(micro("seeds=[]"), "seeds");
  expect_error(micro("seeds=[]"), "expected a non-empty list");
  expect_error(micro("seeds=[1, 2, 1]"), "1 is listed twice");
  expect_error(micro("seeds=[-3]"), "-3 is below 0");
  expect_error(micro("num_samples=[0]"), "num_samples");
  expect_error(micro("num_samples=[0]"), "0 is below 1");
  expect_error(micro("num_samples=[1]"), "1 samples < train.global_batch_size 2 with drop_last: no optimizer step");
  expect_error(micro("num_samples=lots"), "num_samples");
  CHECK_FALSE(fs::exists(x));

  ctxext::testing::write_text(dir / "bad.yaml", "base: configs/tiny/eabf.yaml\noutput_dir: x\nmethods: [{name: a, rop: {}}]\n"
                               "eval: {documents: data/pretrain/valid.jsonl, tokenizer: data/tokenizer.model}\n");
  expect_error({"ablate", (dir / "bad.yaml").string()}, "unknown key 'methods[0].rop'");
  ctxext::testing::write_text(dir / "bad_lb.yaml", "base: " + fs::absolute("configs/tiny/eabf.yaml").string() + "\noutput_dir: x\n"
             "methods: [{name: none}]\neval: {documents: data/pretrain/valid.jsonl, tokenizer: data/tokenizer.model,"
             " longbench: {data: tests/eval/fixtures/longbench, tasks: [hotpotqa, musique]}}\n");
  expect_error({"ablate", (dir / "bad_lb.yaml").string()}, "no musique.jsonl in that folder");
  ctxext::testing::write_text(dir / "bad_lb2.yaml", "base: " + fs::absolute("configs/tiny/eabf.yaml").string() + "\noutput_dir: x\n"
             "methods: [{name: none}]\neval: {documents: data/pretrain/valid.jsonl, tokenizer: data/tokenizer.model,"
             " longbench: {tasks: [trec]}}\n");
  expect_error({"ablate", (dir / "bad_lb2.yaml").string()}, "give LongBench's data folder");
  CHECK_FALSE(fs::exists("x"));  // nothing written for a rejected config
}
