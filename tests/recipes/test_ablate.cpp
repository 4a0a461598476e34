// ctxext ablate through the binary: the 2-method micro config end to end (results.json with the
// evaluation suite's sections, results.md, plots) and bad configs exiting 2 with one line naming
// the key, before anything is written.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "support/test_support.h"

using namespace ctxext;
using namespace ctxext::testing;
using Catch::Matchers::Contains;

namespace {

void expect_error(const std::vector<std::string>& args, const std::string& needle) {
  const auto r = run_ctxext(args);
  INFO(r.output);
  CHECK(r.exit_code == 2);
  CHECK_THAT(r.output, Contains("error: ") && Contains(needle));
}

}  // namespace

TEST_CASE("cli ablate: the 2-method micro config end to end (results.json, results.md, plots)", "[recipes][ablate]") {
  TempDir dir;
  const auto out = (dir / "abl").string();
  const auto r = run_ctxext({"ablate", "configs/tiny/ablation_micro.yaml", "output_dir=" + out});
  INFO(r.output);
  REQUIRE(r.exit_code == 0);
  CHECK_THAT(r.output, Contains("ablation [2/2] method eabf: training"));
  const auto results = nlohmann::json::parse(read_text(dir / "abl" / "results.json"));
  REQUIRE(results.at("methods").size() == 2);
  CHECK(results["methods"][0]["name"] == "none");
  CHECK(results["methods"][0]["train_seconds"] == 0.0);
  CHECK(results["methods"][1]["rope_type"] == "eabf");
  CHECK(results["methods"][1]["train_seconds"].get<double>() > 0.0);
  for (const auto& m : results["methods"]) {
    CHECK(m["ppl"].size() == 2);
    CHECK(m["passkey"].size() == 4);
    CHECK(m["entropy"].size() == 2);
    REQUIRE(m["longbench"].size() == 2);
    CHECK(m["longbench"][1]["task"] == "trec");
    CHECK(m["longbench"][1]["samples"] == 1);
  }
  CHECK_THAT(read_text(dir / "abl" / "results.md"), Contains("| method | rope | train s | ppl@128") && Contains("LB trec"));
  for (const char* png : {"ppl_vs_length.png", "passkey_none.png", "passkey_eabf.png", "entropy_per_layer.png"})
    CHECK(std::filesystem::is_regular_file(dir / "abl" / png));

  write_text(dir / "bad.yaml", "base: configs/tiny/eabf.yaml\noutput_dir: x\nmethods: [{name: a, rop: {}}]\n"
                               "eval: {documents: data/pretrain/valid.jsonl, tokenizer: data/tokenizer.model}\n");
  expect_error({"ablate", (dir / "bad.yaml").string()}, "unknown key 'methods[0].rop'");
  write_text(dir / "bad_lb.yaml", "base: " + fs::absolute("configs/tiny/eabf.yaml").string() + "\noutput_dir: x\n"
             "methods: [{name: none}]\neval: {documents: data/pretrain/valid.jsonl, tokenizer: data/tokenizer.model,"
             " longbench: {data: tests/eval/fixtures/longbench, tasks: [hotpotqa, musique]}}\n");
  expect_error({"ablate", (dir / "bad_lb.yaml").string()}, "no musique.jsonl in that folder");
  write_text(dir / "bad_lb2.yaml", "base: " + fs::absolute("configs/tiny/eabf.yaml").string() + "\noutput_dir: x\n"
             "methods: [{name: none}]\neval: {documents: data/pretrain/valid.jsonl, tokenizer: data/tokenizer.model,"
             " longbench: {tasks: [trec]}}\n");
  expect_error({"ablate", (dir / "bad_lb2.yaml").string()}, "give LongBench's data folder");
  CHECK_FALSE(fs::exists("x"));  // nothing written for a rejected config
}
