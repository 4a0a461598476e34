// ctxext eval ppl / passkey / ppl-sweep / entropy / longbench through the binary: HF's loss is the
// reference for ppl; JSON lines and tables; the model flags every subcommand shares (--dtype in
// either spelling, --device cpu | cuda[:N], --threads); bad inputs, and a model with NaN weights,
// exit 2 with one line naming the flag, file or problem.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>
#include <torch/cuda.h>
#include <torch/torch.h>

#include <limits>
#include <sstream>

#include "cli_fixtures.h"
#include "ctxext/build_info.h"
#include "io/safetensors.h"
#include "model/hf_checkpoint.h"
#include "model/llama_init.h"
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

// A successful run's JSON lines (logs go to stderr, tables have no line starting with '{').
std::vector<nlohmann::json> json_results(const std::vector<std::string>& args) {
  const auto r = run_ctxext(args);
  INFO(r.output);
  REQUIRE(r.exit_code == 0);
  return json_lines(r.output);
}

nlohmann::json ppl_json(const std::vector<std::string>& args) {
  const auto lines = json_results(args);
  REQUIRE(lines.size() == 1);
  return lines.front();
}

// `ctxext eval <args>` with another RoPE method applied on the fly (the cli model is plain RoPE, L0 = 64).
std::vector<std::string> eval_with(const std::string& rope_type, std::vector<std::string> args) {
  args.insert(args.begin(), "eval");
  args.insert(args.end(), {"--rope-type", rope_type, "--factor", "2"});
  return args;
}

}  // namespace

TEST_CASE("cli eval ppl: --json NLL equals HF's loss, and --rope-type equals evaluating the exported folder",
          "[cli][eval][ppl]") {
  TempDir dir;
  write_cli_model(dir / "base");
  const auto ids = cli_tokens(120);
  write_text(dir / "tokens.json", tokens_json(ids));
  const int64_t seq_len = 100;  // beyond max_position_embeddings = 64

  REQUIRE(run_ctxext({"export", "--model", (dir / "base").string(), "--out", (dir / "yarn").string(), "--rope-type",
                      "yarn", "--factor", "2"})
              .exit_code == 0);
  nlohmann::json jobs = nlohmann::json::array();
  for (const char* name : {"base", "yarn"})
    jobs.push_back({{"mode", "run"}, {"folder", (dir / name).string()},
                    {"tokens", {std::vector<int64_t>(ids.begin(), ids.begin() + seq_len)}},
                    {"out", (dir / (std::string(name) + ".safetensors")).string()}});
  write_text(dir / "jobs.json", jobs.dump());
  run_oracle("hf_llama_oracle.py", {(dir / "jobs.json").string()});

  const auto base = ppl_json({"eval", "ppl", "--model", (dir / "base").string(), "--tokens",
                              (dir / "tokens.json").string(), "--seq-len", std::to_string(seq_len), "--json"});
  CHECK(base.at("tokens") == seq_len - 1);
  const double hf_base = io::read_safetensors(dir / "base.safetensors").tensors.at("loss").item<double>();
  CHECK(base.at("nll").get<double>() == Approx(hf_base).epsilon(1e-5));
  CHECK(base.at("ppl").get<double>() == Approx(std::exp(hf_base)).epsilon(1e-5));

  const auto on_the_fly =
      ppl_json({"eval", "ppl", "--model", (dir / "base").string(), "--tokens", (dir / "tokens.json").string(),
                "--seq-len", std::to_string(seq_len), "--json", "--rope-type", "yarn", "--factor", "2"});
  const auto exported = ppl_json({"eval", "ppl", "--model", (dir / "yarn").string(), "--tokens",
                                  (dir / "tokens.json").string(), "--seq-len", std::to_string(seq_len), "--json"});
  const double hf_yarn = io::read_safetensors(dir / "yarn.safetensors").tensors.at("loss").item<double>();
  CHECK(on_the_fly.at("nll") == exported.at("nll"));
  CHECK(exported.at("nll").get<double>() == Approx(hf_yarn).epsilon(1e-5));
  CHECK(std::abs(exported.at("nll").get<double>() - base.at("nll").get<double>()) > 1e-4);
}

TEST_CASE("cli eval ppl --text: tokenizes with the sentencepiece model, BOS first", "[cli][eval][ppl]") {
  TempDir dir;
  write_cli_model(dir / "base");
  std::string text;
  for (int i = 0; i < 20; ++i) text += "In the beginning God created the heaven and the earth. ";
  write_text(dir / "text.txt", text);
  const auto r = ppl_json({"eval", "ppl", "--model", (dir / "base").string(), "--text", (dir / "text.txt").string(),
                           "--tokenizer", std::string(CTXEXT_SOURCE_DIR) + "/data/tokenizer.model", "--seq-len",
                           "64", "--json", "--threads", "1"});
  CHECK(r.at("tokens") == 63);
  CHECK(r.at("ppl").get<double>() > 1.0);
}

TEST_CASE("cli eval ppl rejects bad inputs: exit 2, one line naming the file and reason", "[cli][eval][ppl]") {
  TempDir dir;
  write_cli_model(dir / "base");
  const std::string model = (dir / "base").string();
  write_text(dir / "object.json", "{\"tokens\": [1, 2, 3]}");
  write_text(dir / "negative.json", "[1, 2, -3, 4]");
  write_text(dir / "large.json", "[1, 2, 4000, 4]");
  write_text(dir / "float.json", "[1, 2.5, 3]");
  write_text(dir / "short.json", "[1, 2, 3]");
  write_text(dir / "broken.json", "[1, 2,");
  write_text(dir / "ok.json", tokens_json(cli_tokens(20)));
  const auto file = [&](const char* name) { return (dir / name).string(); };
  struct Bad {
    std::vector<std::string> args;
    std::vector<std::string> mentions;
  };
  const std::vector<Bad> bad = {
      {{"--tokens", file("object.json"), "--seq-len", "2"}, {"object.json", "JSON array"}},
      {{"--tokens", file("negative.json"), "--seq-len", "2"}, {"negative.json", "token 2", "-3", "vocabulary"}},
      {{"--tokens", file("large.json"), "--seq-len", "2"}, {"large.json", "token 2", "4000", "[0, 4000)"}},
      {{"--tokens", file("float.json"), "--seq-len", "2"}, {"float.json", "token 1", "integer"}},
      {{"--tokens", file("short.json"), "--seq-len", "10"}, {"short.json", "3 tokens", "--seq-len 10"}},
      {{"--tokens", file("broken.json"), "--seq-len", "2"}, {"broken.json"}},
      {{"--tokens", file("absent.json"), "--seq-len", "2"}, {"absent.json"}},
      {{"--tokens", file("ok.json"), "--seq-len", "1"}, {"--seq-len"}},
      {{"--tokens", file("ok.json"), "--seq-len", "10", "--rope-type", "yran"}, {"yran"}},
      {{"--tokens", file("ok.json"), "--text", file("ok.json"), "--seq-len", "10"}, {"--text"}},
      {{"--seq-len", "10"}, {"--tokens"}},
      {{"--text", file("ok.json"), "--tokenizer", file("ok.json"), "--seq-len", "10"}, {"ok.json"}},
  };
  for (const auto& b : bad) {
    std::vector<std::string> args = {"eval", "ppl", "--model", model};
    args.insert(args.end(), b.args.begin(), b.args.end());
    check_rejected(args, b.mentions);
  }
}

TEST_CASE("cli eval passkey / ppl-sweep / entropy: JSON lines, tables, bad inputs exit 2", "[cli][eval]") {
  TempDir dir;
  const auto model = (dir / "m").string();
  write_cli_model(model);
  const std::string tok = "data/tokenizer.model", docs = "data/pretrain/valid.jsonl";

  const auto cells = json_results(eval_with("yarn", {"passkey", "--model", model, "--tokenizer", tok, "--lengths",
                                                     "100,128", "--depths", "0,1", "--trials", "1", "--json"}));
  REQUIRE(cells.size() == 4);
  CHECK(cells[0].at("length") == 100);
  CHECK(cells[3].at("depth") == 1.0);

  const auto ppl = json_results(eval_with("yarn", {"ppl-sweep", "--model", model, "--tokenizer", tok, "--documents",
                                                   docs, "--lengths", "64,128", "--stride", "32", "--max-tokens", "300",
                                                   "--json"}));
  REQUIRE(ppl.size() == 2);
  CHECK(ppl[0].at("tokens") == 299);
  CHECK(ppl[1].at("stride") == 32);

  const auto r = run_ctxext(eval_with("yarn", {"entropy", "--model", model, "--tokenizer", tok, "--documents", docs,
                                               "--lengths", "64,128"}));
  REQUIRE(r.exit_code == 0);
  CHECK_THAT(r.output, Contains("| length | layer | entropy"));

  // yarn x2 over L0 = 64: the default limit is 8 x 128 = 1024.
  check_rejected(eval_with("yarn", {"passkey", "--model", model, "--tokenizer", tok, "--lengths", "2000"}),
                 {"--lengths 2000"});
  check_rejected(eval_with("yarn", {"passkey", "--model", model, "--tokenizer", tok, "--lengths", "200",
                                    "--max-length", "150"}),
                 {"beyond --max-length 150"});
  check_rejected(eval_with("yarn", {"passkey", "--model", (dir / "nope").string(), "--lengths", "100"}),
                 {"no config.json"});
  check_rejected(eval_with("yarn", {"passkey", "--model", model, "--tokenizer", tok, "--lengths", "100", "--depths",
                                    "2"}),
                 {"--depths 2"});
  check_rejected(eval_with("yarn", {"ppl-sweep", "--model", model, "--tokenizer", tok, "--documents",
                                    (dir / "missing.jsonl").string(), "--lengths", "64"}),
                 {"missing.jsonl: no such file"});
  write_text(dir / "bad.jsonl", "{\"text\": \"ok\"}\nnot json\n");
  check_rejected(eval_with("yarn", {"ppl-sweep", "--model", model, "--tokenizer", tok, "--documents",
                                    (dir / "bad.jsonl").string(), "--lengths", "64"}),
                 {"bad.jsonl:2"});
  write_text(dir / "blank.jsonl", "{\"text\": \"\"}\n");
  check_rejected(eval_with("yarn", {"entropy", "--model", model, "--tokenizer", tok, "--documents",
                                    (dir / "blank.jsonl").string(), "--lengths", "64"}),
                 {"empty text"});
}

TEST_CASE("cli eval entropy: N samples of the document stream, ln(n) beside each layer, a PNG plot", "[cli][eval]") {
  TempDir dir;
  const auto model = (dir / "m").string();
  write_cli_model(model);
  const std::string docs = "data/pretrain/valid.jsonl";
  const auto args = [&](std::vector<std::string> extra) {
    std::vector<std::string> a = {"entropy", "--model", model, "--tokenizer", "data/tokenizer.model", "--documents",
                                  docs, "--lengths", "16,64,128"};
    a.insert(a.end(), extra.begin(), extra.end());
    return eval_with("yarn", a);
  };
  const auto probes = json_results(args({"--samples", "3", "--json", "--plot", (dir / "entropy.png").string()}));
  REQUIRE(probes.size() == 3);
  CHECK(probes[0].at("length") == 16);
  CHECK(probes[2].at("samples") == 3);
  CHECK(probes[2].at("uniform").get<double>() == Approx(std::log(128.0)));
  REQUIRE(probes[2].at("per_layer").size() == 2);
  for (const auto& probe : probes)
    for (const auto& h : probe.at("per_layer")) {
      CHECK(h.get<double>() > 0.0);
      CHECK(h.get<double>() <= std::log(probe.at("length").get<double>()) + 1e-9);  // at most uniform
    }
  CHECK(std::filesystem::file_size(dir / "entropy.png") > 1000);
  // One sample: the first 128 tokens only, so a different mean than over three.
  const auto one = json_results(args({"--json"}));
  REQUIRE(one.size() == 3);
  CHECK(one[2].at("samples") == 1);
  CHECK(one[2]["per_layer"][0] != probes[2]["per_layer"][0]);

  const auto r = run_ctxext(args({"--samples", "2"}));
  REQUIRE(r.exit_code == 0);
  CHECK_THAT(r.output, Contains("| length | layer | entropy | ln(length) | samples |") && Contains("| 4.8520 "));
  check_rejected(args({"--samples", "0"}), {"--samples 0"});
  check_rejected(args({"--samples", "100000"}), {"valid.jsonl", "fewer than the 12800000 tokens"});
  check_rejected(args({"--plot", (dir / "entropy.svg").string()}), {"--plot", "must end in .png"});
}

TEST_CASE("cli eval: every subcommand takes --device, --dtype (either spelling) and --threads the same way",
          "[cli][eval][flags]") {
  TempDir dir;
  const auto model = (dir / "m").string();
  write_cli_model(model);
  write_text(dir / "tokens.json", tokens_json(cli_tokens(80)));
  const std::string tok = "data/tokenizer.model", docs = "data/pretrain/valid.jsonl";
  const std::vector<std::vector<std::string>> commands = {
      {"ppl", "--model", model, "--tokens", (dir / "tokens.json").string(), "--seq-len", "64", "--json"},
      {"passkey", "--model", model, "--tokenizer", tok, "--lengths", "100", "--depths", "0", "--trials", "1", "--json"},
      {"ppl-sweep", "--model", model, "--tokenizer", tok, "--documents", docs, "--lengths", "64", "--max-tokens",
       "128", "--json"},
      {"entropy", "--model", model, "--tokenizer", tok, "--documents", docs, "--lengths", "64", "--json"},
      {"longbench", "--model", model, "--tokenizer", tok, "--tasks", "trec", "--data",
       "tests/eval/fixtures/longbench", "--truncate-to", "60", "--json"}};
  const auto with = [](std::vector<std::string> args, const std::vector<std::string>& extra) {
    args.insert(args.begin(), "eval");
    args.insert(args.end(), extra.begin(), extra.end());
    return args;
  };
  for (const auto& command : commands) {
    INFO(command.front());
    // bf16 and bfloat16 name one dtype: the same numbers.
    const auto a = run_ctxext(with(command, {"--device", "cpu", "--dtype", "bf16", "--threads", "1"}));
    const auto b = run_ctxext(with(command, {"--dtype", "bfloat16", "--threads", "1"}));
    INFO(a.output);
    REQUIRE(a.exit_code == 0);
    REQUIRE(b.exit_code == 0);
    CHECK(json_lines(a.output) == json_lines(b.output));
    CHECK_FALSE(json_lines(a.output).empty());
    check_rejected(with(command, {"--dtype", "float64"}), {"--dtype", "unknown dtype 'float64'"});
    check_rejected(with(command, {"--device", "gpu"}), {"--device gpu", "expected cpu, cuda or cuda:N"});
    check_rejected(with(command, {"--device", "cpu:1"}), {"--device cpu:1"});
    // cuda:1 parses: on a machine without CUDA the error is that there is none, not a parse error.
    if (!torch::cuda::is_available())
      check_rejected(with(command, {"--device", "cuda:1"}), {"--device cuda:1: no CUDA device is available"});
    else if (torch::cuda::device_count() < 2)
      check_rejected(with(command, {"--device", "cuda:1"}), {"--device cuda:1", "CUDA device(s)"});
  }
  // fp32 is float32: the default's numbers.
  const auto fp32 = ppl_json(with(commands[0], {"--dtype", "fp32"}));
  CHECK(fp32 == ppl_json(with(commands[0], {})));
}

TEST_CASE("cli eval: a model whose weights are NaN fails with one line, exit 2 (not {\"nll\": null})",
          "[cli][eval][nan]") {
  TempDir dir;
  auto model = model::make_random_llama(cli_model_config(), 5, torch::kFloat32, 0.15);
  {
    torch::NoGradGuard no_grad;
    for (auto& p : model->parameters()) p.fill_(std::numeric_limits<float>::quiet_NaN());
  }
  model::export_hf_checkpoint(model::model_tensors(*model), cli_model_config(), dir / "nan");
  write_text(dir / "tokens.json", tokens_json(cli_tokens(40)));
  const auto nan_model = (dir / "nan").string();
  check_rejected({"eval", "ppl", "--model", nan_model, "--tokens", (dir / "tokens.json").string(), "--seq-len", "32",
                  "--json"},
                 {"NLL is nan", "not finite", "NaN"});
  check_rejected({"eval", "ppl-sweep", "--model", nan_model, "--tokenizer", "data/tokenizer.model", "--documents",
                  "data/pretrain/valid.jsonl", "--lengths", "64", "--max-tokens", "128"},
                 {"64-token windows", "NLL is nan", "not finite"});
  check_rejected({"eval", "entropy", "--model", nan_model, "--tokenizer", "data/tokenizer.model", "--documents",
                  "data/pretrain/valid.jsonl", "--lengths", "64"},
                 {"attention entropy at length 64", "not finite"});
}

TEST_CASE("cli eval longbench: a fixture folder end to end, predictions file, bad inputs exit 2", "[cli][eval][longbench]") {
  TempDir dir;
  const auto model = (dir / "m").string();
  write_cli_model(model);  // with pi x2 over L0 = 64: extended context 128
  const std::string tok = "data/tokenizer.model", fixtures = "tests/eval/fixtures/longbench";
  const auto predictions = dir / "pred.jsonl";
  auto r = run_ctxext(eval_with("pi", {"longbench", "--model", model, "--tokenizer", tok, "--tasks",
                       "hotpotqa,trec,passage_count,passage_retrieval_en", "--data", fixtures, "--truncate-to", "60",
                       "--chat", "--json", "--predictions", predictions.string()}));
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

  r = run_ctxext(eval_with("pi", {"longbench", "--model", model, "--tokenizer", tok, "--tasks", "trec", "--data",
                  fixtures + "/trec.jsonl", "--truncate-to", "60"}));
  REQUIRE(r.exit_code == 0);
  CHECK_THAT(r.output, Contains("| task ") && Contains("| score ") && Contains("| trec "));

  check_rejected(eval_with("pi", {"longbench", "--model", model, "--tokenizer", tok, "--tasks", "gov_report", "--data", fixtures}),
                 {"unknown LongBench task 'gov_report'"});
  check_rejected(eval_with("pi", {"longbench", "--model", model, "--tokenizer", tok, "--tasks", "musique", "--data", fixtures}),
                 {"no musique.jsonl in that folder"});
  check_rejected(eval_with("pi", {"longbench", "--model", model, "--tokenizer", tok, "--tasks", "hotpotqa,trec", "--data",
                fixtures + "/trec.jsonl"}), {"give a folder"});
  check_rejected(eval_with("pi", {"longbench", "--model", model, "--tokenizer", tok, "--tasks", "hotpotqa", "--data",
                fixtures, "--truncate-to", "5000"}), {"--truncate-to"});
  check_rejected(eval_with("pi", {"longbench", "--model", model, "--tokenizer", tok, "--tasks", "hotpotqa", "--data",
                fixtures, "--truncate-to=-3"}), {"--truncate-to -3: must be at least 2 tokens"});
  check_rejected(eval_with("pi", {"longbench", "--model", model, "--tokenizer", tok, "--tasks", "trec", "--data", fixtures,
                "--limit=-1", "--predictions", (dir / "never.jsonl").string()}), {"--limit -1: must be >= 0"});
  CHECK_FALSE(fs::exists(dir / "never.jsonl"));
}
