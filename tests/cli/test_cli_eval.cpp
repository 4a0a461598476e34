// ctxext eval ppl and the perplexity function: HF's loss on the same tokens is the reference;
// bad inputs exit 2 with one line naming the file and the reason.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include <sstream>

#include "cli_fixtures.h"
#include "ctxext/build_info.h"
#include "eval/perplexity.h"
#include "io/safetensors.h"
#include "model/llama_init.h"
#include "support/test_support.h"

using namespace ctxext;
using namespace ctxext::testing;
using Catch::Matchers::Contains;

namespace {

nlohmann::json ppl_json(const std::vector<std::string>& args) {
  const auto r = run_ctxext(args);
  INFO(r.output);
  REQUIRE(r.exit_code == 0);
  // stdout's JSON is the one line starting with '{' (logs go to stderr).
  std::istringstream in(r.output);
  std::vector<std::string> json_lines;
  for (std::string line; std::getline(in, line);)
    if (!line.empty() && line.front() == '{') json_lines.push_back(line);
  REQUIRE(json_lines.size() == 1);
  return nlohmann::json::parse(json_lines.front());
}

}  // namespace

TEST_CASE("perplexity: mean next-token NLL, independent of the chunk size", "[cli][ppl]") {
  auto config = cli_model_config();
  auto model = make_random_llama(config, 4, torch::kFloat32, 0.15);
  const auto tokens = torch::tensor(cli_tokens(50), torch::kInt64);
  const auto result = perplexity(*model, tokens, 40, 1024);
  CHECK(result.tokens == 39);

  torch::NoGradGuard no_grad;
  const auto logits = model->forward(tokens.slice(0, 0, 40).unsqueeze(0)).squeeze(0);
  const double expected =
      torch::nn::functional::cross_entropy(logits.slice(0, 0, 39), tokens.slice(0, 1, 40)).item<double>();
  CHECK(result.nll == Approx(expected).epsilon(1e-6));
  CHECK(result.ppl == Approx(std::exp(expected)).epsilon(1e-6));
  CHECK(perplexity(*model, tokens, 40, 7).nll == Approx(result.nll).epsilon(1e-6));
  CHECK_THROWS_WITH(perplexity(*model, tokens, 51), Contains("51") && Contains("50 tokens"));
}

TEST_CASE("cli eval ppl: --json NLL equals HF's loss, and --rope-type equals evaluating the exported folder",
          "[cli][ppl]") {
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
  const double hf_base = read_safetensors(dir / "base.safetensors").tensors.at("loss").item<double>();
  CHECK(base.at("nll").get<double>() == Approx(hf_base).epsilon(1e-5));
  CHECK(base.at("ppl").get<double>() == Approx(std::exp(hf_base)).epsilon(1e-5));

  const auto on_the_fly =
      ppl_json({"eval", "ppl", "--model", (dir / "base").string(), "--tokens", (dir / "tokens.json").string(),
                "--seq-len", std::to_string(seq_len), "--json", "--rope-type", "yarn", "--factor", "2"});
  const auto exported = ppl_json({"eval", "ppl", "--model", (dir / "yarn").string(), "--tokens",
                                  (dir / "tokens.json").string(), "--seq-len", std::to_string(seq_len), "--json"});
  const double hf_yarn = read_safetensors(dir / "yarn.safetensors").tensors.at("loss").item<double>();
  CHECK(on_the_fly.at("nll") == exported.at("nll"));
  CHECK(exported.at("nll").get<double>() == Approx(hf_yarn).epsilon(1e-5));
  CHECK(std::abs(exported.at("nll").get<double>() - base.at("nll").get<double>()) > 1e-4);
}

TEST_CASE("cli eval ppl --text: tokenizes with the sentencepiece model, BOS first", "[cli][ppl]") {
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

TEST_CASE("cli eval ppl rejects bad inputs: exit 2, one line naming the file and reason", "[cli][ppl]") {
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
