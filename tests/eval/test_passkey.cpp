// Passkey: the prompt equals scripts/passkey_prompt.py's, sizing fits the token budget, prompts are
// a function of the seed, KV-cache decoding equals the full forward (every method; dynamic_ntk up
// to L0) and equals transformers' cached generation (dynamic_ntk beyond L0 included).
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include "eval/greedy_decode.h"
#include "eval/passkey.h"
#include "eval/passkey_prompt.h"
#include "eval_fixtures.h"
#include "support/test_support.h"

using namespace ctxext;
using namespace ctxext::eval;
using namespace ctxext::testing;
using Catch::Matchers::Contains;

namespace {

// Logits of a full forward over prompt + generated[:-1] at the positions that chose each new token.
torch::Tensor full_forward_logits(model::LlamaForCausalLMImpl& model, const std::vector<int64_t>& prompt,
                                  const std::vector<int64_t>& generated) {
  std::vector<int64_t> all = prompt;
  all.insert(all.end(), generated.begin(), generated.end() - 1);
  torch::NoGradGuard no_grad;
  const auto logits = model.forward(torch::tensor(all, torch::kInt64).unsqueeze(0)).squeeze(0);
  return logits.slice(0, static_cast<int64_t>(prompt.size()) - 1);  // [n_new, vocab]
}

double max_abs(const torch::Tensor& a, const torch::Tensor& b) {
  REQUIRE_FALSE((a - b).isnan().any().item<bool>());
  return (a.to(torch::kFloat64) - b.to(torch::kFloat64)).abs().max().item<double>();
}

}  // namespace

TEST_CASE("passkey prompt: the text and the filler count equal scripts/passkey_prompt.py", "[eval][passkey]") {
  TempDir dir;
  const std::vector<std::tuple<int64_t, int64_t, double>> prompts = {
      {12345, 0, 0.0}, {99999, 3, 0.5}, {10000, 7, 1.0}, {54321, 10, 0.25}, {67890, 5, 0.3}};
  const std::vector<int64_t> lengths = {128, 256, 512, 1024};
  nlohmann::json cases{{"prompts", nlohmann::json::array()}, {"lengths", lengths}};
  for (const auto& [k, n, d] : prompts) cases["prompts"].push_back({k, n, d});
  write_text(dir / "cases.json", cases.dump());
  run_oracle("eval_passkey_prompt.py", {(dir / "cases.json").string(), (dir / "out.json").string()});
  const auto out = nlohmann::json::parse(read_text(dir / "out.json"));
  for (size_t i = 0; i < prompts.size(); ++i) {
    const auto& [k, n, d] = prompts[i];
    CHECK(passkey_prompt_text(k, n, d) == out["prompts"][i].get<std::string>());
  }
  for (size_t i = 0; i < lengths.size(); ++i) {
    const auto p = build_passkey_prompt(embedded_tokenizer(), 12345, 0.5, lengths[i]);
    CHECK(p.n_fillers == out["max_fillers"][i].get<int64_t>());
    // BOS + prompt + answer fit; one more filler would not.
    const auto with_answer = embedded_tokenizer().encode(p.text + passkey_answer(12345));
    CHECK(static_cast<int64_t>(with_answer.size()) + 1 <= lengths[i]);
    const auto longer = embedded_tokenizer().encode(passkey_prompt_text(12345, p.n_fillers + 1, 0.5) + passkey_answer(12345));
    CHECK(static_cast<int64_t>(longer.size()) + 1 > lengths[i]);
    CHECK(p.ids.front() == embedded_tokenizer().bos_id());
  }
  CHECK_THROWS_WITH(build_passkey_prompt(embedded_tokenizer(), 12345, 0.5, 20), Contains("passkey length 20") && Contains("too short"));
}

TEST_CASE("passkey prompt: keys and prompts are a function of (seed, length, depth, trial)", "[eval][passkey]") {
  CHECK(passkey_key(7, 256, 0.5, 2) == passkey_key(7, 256, 0.5, 2));
  std::set<int64_t> keys;
  for (int64_t t = 0; t < 20; ++t) {
    const int64_t k = passkey_key(7, 256, 0.5, t);
    CHECK(k >= kPasskeyKeyMin);
    CHECK(k <= kPasskeyKeyMax);
    keys.insert(k);
  }
  CHECK(keys.size() >= 19);
  CHECK(passkey_key(8, 256, 0.5, 0) != passkey_key(7, 256, 0.5, 0));
  CHECK(passkey_key(7, 512, 0.5, 0) != passkey_key(7, 256, 0.5, 0));
  CHECK(passkey_key(7, 256, 0.25, 0) != passkey_key(7, 256, 0.5, 0));
  const auto a = build_passkey_prompt(embedded_tokenizer(), passkey_key(3, 300, 0.1, 1), 0.1, 300);
  const auto b = build_passkey_prompt(embedded_tokenizer(), passkey_key(3, 300, 0.1, 1), 0.1, 300);
  CHECK(a.text == b.text);
  CHECK(a.ids == b.ids);
  CHECK_THAT(a.text, Contains(passkey_needle(a.key)));
}

TEST_CASE("passkey success: the generated text starts with the key's digits", "[eval][passkey]") {
  CHECK(passkey_success(" 12345", 12345));
  CHECK(passkey_success("12345.", 12345));
  CHECK(passkey_success("\n 12345 is the key", 12345));
  CHECK_FALSE(passkey_success(" 1234", 12345));
  CHECK_FALSE(passkey_success(" 54321", 12345));
  CHECK_FALSE(passkey_success(" the key is 12345", 12345));
  CHECK_FALSE(passkey_success("", 12345));
}

TEST_CASE("greedy decoding: KV-cache logits equal the full forward's for every method", "[eval][passkey]") {
  const auto prompt = eval_tokens(40);
  for (const char* method : {"none", "pi", "ntk", "dynamic_ntk", "yarn", "llama3", "abf", "eabf"}) {
    INFO(method);
    auto model = eval_model(method);
    // 40 + 8 <= L0 = 64: within L0 dynamic_ntk keeps the base frequencies, so it must match too.
    const auto r = greedy_decode(*model, prompt, 8, -1, true);
    REQUIRE(r.tokens.size() == 8);
    CHECK(max_abs(r.step_logits, full_forward_logits(*model, prompt, r.tokens)) < 1e-4);
    if (std::string(method) != "dynamic_ntk") {
      // Beyond L0 and the extended context (64 x 2): still one rotation per position.
      const auto long_prompt = eval_tokens(150, 9);
      const auto l = greedy_decode(*model, long_prompt, 6, -1, true);
      CHECK(max_abs(l.step_logits, full_forward_logits(*model, long_prompt, l.tokens)) < 1e-4);
    }
  }
}

TEST_CASE("greedy decoding: equals transformers' cached generation, dynamic_ntk beyond L0 included",
          "[eval][passkey][oracle]") {
  TempDir dir;
  const auto prompt = eval_tokens(70, 13);  // past L0 = 64 at the prompt already
  const std::vector<std::string> methods = {"none", "yarn", "dynamic_ntk"};
  nlohmann::json jobs = nlohmann::json::array();
  for (const auto& m : methods) {
    write_eval_model(dir / m, m);
    jobs.push_back({{"mode", "greedy"}, {"folder", (dir / m).string()}, {"prompt", prompt}, {"new_tokens", 6}});
  }
  write_text(dir / "jobs.json", jobs.dump());
  run_oracle("eval_hf_oracle.py", {(dir / "jobs.json").string(), (dir / "out.json").string()});
  const auto out = nlohmann::json::parse(read_text(dir / "out.json"));
  for (size_t i = 0; i < methods.size(); ++i) {
    INFO(methods[i]);
    auto model = eval_model(methods[i]);
    const auto r = greedy_decode(*model, prompt, 6, -1, true);
    CHECK(r.tokens == out[i]["tokens"].get<std::vector<int64_t>>());
    std::vector<torch::Tensor> rows;
    for (const auto& row : out[i]["logits"]) rows.push_back(torch::tensor(row.get<std::vector<float>>()));
    CHECK(max_abs(r.step_logits, torch::stack(rows)) < 1e-4);
    if (methods[i] == "dynamic_ntk") {
      // The documented difference: a full forward rotates the prompt with θ'(final length).
      CHECK(max_abs(r.step_logits, full_forward_logits(*model, prompt, r.tokens)) > 1e-4);
    }
  }
}

TEST_CASE("run_passkey: one trial per (length, depth, trial), accuracy per cell, bad options fail",
          "[eval][passkey]") {
  auto model = eval_model("yarn");
  PasskeyOptions options;
  options.lengths = {100, 140};
  options.depths = {0.0, 1.0};
  options.trials = 2;
  options.seed = 3;
  int64_t last_done = 0;
  const auto report = run_passkey(*model, embedded_tokenizer(), options, [&](int64_t done, int64_t total) {
    CHECK(total == 8);
    last_done = done;
  });
  CHECK(last_done == 8);
  REQUIRE(report.trials.size() == 8);
  REQUIRE(report.cells.size() == 4);
  CHECK(report.cells[1].length == 100);
  CHECK(report.cells[1].depth == 1.0);
  for (const auto& t : report.trials) {
    CHECK(t.prompt_tokens <= t.length);
    CHECK(t.success == passkey_success(t.generated, t.key));
    CHECK(t.key == passkey_key(3, t.length, t.depth, t.trial));
  }
  // A random model does not know the key: the criterion, not luck, decides.
  CHECK(report.cells[0].accuracy() == Approx(static_cast<double>(report.cells[0].correct) / 2));
  options.max_new_tokens = 5;
  CHECK_THROWS_WITH(run_passkey(*model, embedded_tokenizer(), options), Contains("max_new_tokens = 5"));
  options.max_new_tokens = 8;
  options.depths = {1.5};
  CHECK_THROWS_WITH(run_passkey(*model, embedded_tokenizer(), options), Contains("depth 1.5"));
}
