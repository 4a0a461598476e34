// ctxext eval passkey / ppl-sweep / entropy and ctxext ablate through the binary: JSON and table
// output, the micro ablation end to end, and bad inputs exiting 2 with one line naming the cause.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <sstream>

#include "eval_fixtures.h"
#include "io/atomic_folder.h"
#include "support/test_support.h"

using namespace ctxext;
using namespace ctxext::testing;
using Catch::Matchers::Contains;

namespace {

std::vector<nlohmann::json> json_lines(const std::string& output) {
  std::vector<nlohmann::json> out;
  std::istringstream in(output);
  for (std::string line; std::getline(in, line);)
    if (!line.empty() && line.front() == '{') out.push_back(nlohmann::json::parse(line));
  return out;
}

void expect_error(const std::vector<std::string>& args, const std::string& needle) {
  const auto r = run_ctxext(args);
  INFO(r.output);
  CHECK(r.exit_code == 2);
  CHECK_THAT(r.output, Contains("error: ") && Contains(needle));
}

}  // namespace

TEST_CASE("cli eval passkey / ppl-sweep / entropy: JSON lines, tables, bad inputs exit 2", "[eval][cli]") {
  TempDir dir;
  const auto model = (dir / "m").string();
  write_eval_model(model, "yarn");
  const std::string tok = "data/tokenizer.model", docs = "data/pretrain/valid.jsonl";

  auto r = run_ctxext({"eval", "passkey", "--model", model, "--tokenizer", tok, "--lengths", "100,128", "--depths",
                       "0,1", "--trials", "1", "--json"});
  INFO(r.output);
  REQUIRE(r.exit_code == 0);
  const auto cells = json_lines(r.output);
  REQUIRE(cells.size() == 4);
  CHECK(cells[0].at("length") == 100);
  CHECK(cells[3].at("depth") == 1.0);

  r = run_ctxext({"eval", "ppl-sweep", "--model", model, "--tokenizer", tok, "--documents", docs, "--lengths",
                  "64,128", "--stride", "32", "--max-tokens", "300", "--json"});
  REQUIRE(r.exit_code == 0);
  const auto ppl = json_lines(r.output);
  REQUIRE(ppl.size() == 2);
  CHECK(ppl[0].at("tokens") == 299);
  CHECK(ppl[1].at("stride") == 32);

  r = run_ctxext({"eval", "entropy", "--model", model, "--tokenizer", tok, "--documents", docs, "--lengths", "64,128"});
  REQUIRE(r.exit_code == 0);
  CHECK_THAT(r.output, Contains("| length | layer | entropy"));

  // yarn x2 over L0 = 64: the default limit is 8 x 128 = 1024.
  expect_error({"eval", "passkey", "--model", model, "--tokenizer", tok, "--lengths", "2000"}, "--lengths 2000");
  expect_error({"eval", "passkey", "--model", model, "--tokenizer", tok, "--lengths", "200", "--max-length", "150"},
               "beyond --max-length 150");
  expect_error({"eval", "passkey", "--model", (dir / "nope").string(), "--lengths", "100"}, "no config.json");
  expect_error({"eval", "passkey", "--model", model, "--tokenizer", tok, "--lengths", "100", "--depths", "2"},
               "--depths 2");
  expect_error({"eval", "ppl-sweep", "--model", model, "--tokenizer", tok, "--documents",
                (dir / "missing.jsonl").string(), "--lengths", "64"}, "missing.jsonl: no such file");
  write_text(dir / "bad.jsonl", "{\"text\": \"ok\"}\nnot json\n");
  expect_error({"eval", "ppl-sweep", "--model", model, "--tokenizer", tok, "--documents", (dir / "bad.jsonl").string(),
                "--lengths", "64"}, "bad.jsonl:2");
  write_text(dir / "blank.jsonl", "{\"text\": \"\"}\n");
  expect_error({"eval", "entropy", "--model", model, "--tokenizer", tok, "--documents", (dir / "blank.jsonl").string(),
                "--lengths", "64"}, "empty text");
}

TEST_CASE("cli ablate: the 2-method micro config end to end (results.json, results.md, plots)", "[eval][ablate]") {
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
  expect_error({"ablate", (dir / "bad.yaml").string()}, "unknown key 'rop'");
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

TEST_CASE("cli eval longbench: a fixture folder end to end, predictions file, bad inputs exit 2", "[eval][cli][longbench]") {
  TempDir dir;
  const auto model = (dir / "m").string();
  write_eval_model(model, "pi");  // pi x2 over L0 = 64: extended context 128
  const std::string tok = "data/tokenizer.model", fixtures = "tests/eval/fixtures/longbench";
  const auto predictions = dir / "pred.jsonl";
  auto r = run_ctxext({"eval", "longbench", "--model", model, "--tokenizer", tok, "--tasks",
                       "hotpotqa,trec,passage_count,passage_retrieval_en", "--data", fixtures, "--truncate-to", "60",
                       "--chat", "--json", "--predictions", predictions.string()});
  INFO(r.output);
  REQUIRE(r.exit_code == 0);
  const auto results = json_lines(r.output);
  REQUIRE(results.size() == 4);
  CHECK(results[0].at("task") == "hotpotqa");
  CHECK(results[0].at("samples") == 2);
  CHECK(results[1].at("metric") == "classification");
  for (const auto& result : results) {
    CHECK(result.at("score").get<double>() >= 0.0);
    CHECK(result.at("score").get<double>() <= 100.0);
    CHECK(result.at("truncate_to") == 60);
  }
  const auto lines = json_lines(read_text(predictions));
  REQUIRE(lines.size() == 5);
  CHECK(lines[0].at("answers") == nlohmann::json::array({"Boaz"}));
  CHECK(lines[2].at("all_classes").size() == 4);
  CHECK(lines[4].at("task") == "passage_retrieval_en");
  CHECK(lines[4].at("pred").is_string());

  r = run_ctxext({"eval", "longbench", "--model", model, "--tokenizer", tok, "--tasks", "trec", "--data",
                  fixtures + "/trec.jsonl", "--truncate-to", "60"});
  REQUIRE(r.exit_code == 0);
  CHECK_THAT(r.output, Contains("| task ") && Contains("| score ") && Contains("| trec "));

  expect_error({"eval", "longbench", "--model", model, "--tokenizer", tok, "--tasks", "gov_report", "--data", fixtures},
               "unknown LongBench task 'gov_report'");
  expect_error({"eval", "longbench", "--model", model, "--tokenizer", tok, "--tasks", "musique", "--data", fixtures},
               "no musique.jsonl in that folder");
  expect_error({"eval", "longbench", "--model", model, "--tokenizer", tok, "--tasks", "hotpotqa,trec", "--data",
                fixtures + "/trec.jsonl"}, "give a folder");
  expect_error({"eval", "longbench", "--model", model, "--tokenizer", tok, "--tasks", "hotpotqa", "--data",
                fixtures, "--truncate-to", "5000"}, "--truncate-to");
  expect_error({"eval", "longbench", "--model", model, "--tokenizer", tok, "--tasks", "hotpotqa", "--data",
                fixtures, "--truncate-to=-3"}, "--truncate-to -3: must be at least 2 tokens");
  expect_error({"eval", "longbench", "--model", model, "--tokenizer", tok, "--tasks", "trec", "--data", fixtures,
                "--limit=-1", "--predictions", (dir / "never.jsonl").string()}, "--limit -1: must be >= 0");
  CHECK_FALSE(fs::exists(dir / "never.jsonl"));
}
