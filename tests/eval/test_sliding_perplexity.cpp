// Sliding-window perplexity equals transformers' strided-perplexity loop on the same folder,
// tokens, window and stride; eval documents and length limits reject bad inputs by name.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include "eval/eval_documents.h"
#include "eval/eval_limits.h"
#include "eval/sliding_perplexity.h"
#include "eval_fixtures.h"
#include "support/test_support.h"

using namespace ctxext;
using namespace ctxext::eval;
using namespace ctxext::testing;
using Catch::Matchers::Contains;

TEST_CASE("sliding perplexity: equals HF's strided loop (window, stride, last partial window)",
          "[eval][ppl][oracle]") {
  TempDir dir;
  const auto ids = eval_tokens(150);
  struct Case { std::string method; int64_t window, stride; };
  const std::vector<Case> cases = {{"none", 64, 32}, {"none", 64, 64}, {"none", 200, 200},
                                   {"yarn", 128, 50}, {"eabf", 100, 7}};
  nlohmann::json jobs = nlohmann::json::array();
  for (const auto& c : cases) {
    if (!std::filesystem::exists(dir / c.method)) write_eval_model(dir / c.method, c.method);
    jobs.push_back({{"mode", "sliding_ppl"}, {"folder", (dir / c.method).string()}, {"tokens", ids},
                    {"window", c.window}, {"stride", c.stride}});
  }
  // eabf has no HF implementation: its row checks only the loop's bookkeeping below.
  write_text(dir / "jobs.json", jobs.dump());
  run_oracle("eval_hf_oracle.py", {(dir / "jobs.json").string(), (dir / "out.json").string()});
  const auto out = nlohmann::json::parse(read_text(dir / "out.json"));
  const auto tokens = torch::tensor(ids, torch::kInt64);
  for (size_t i = 0; i < cases.size(); ++i) {
    const auto& c = cases[i];
    INFO(c.method << " window " << c.window << " stride " << c.stride);
    auto model = eval_model(c.method);
    const auto r = sliding_perplexity(*model, tokens, c.window, c.stride, /*chunk=*/17);
    CHECK(r.windows == out[i]["windows"].get<int64_t>());
    CHECK(r.windows == sliding_window_count(150, c.window, c.stride));
    CHECK(r.tokens == out[i]["count"].get<int64_t>());
    // Overlapping windows score every token but the first once; disjoint ones (as in HF) also skip
    // each later window's first token, which has no context inside its window.
    CHECK(r.tokens == (c.stride < c.window ? 149 : 150 - r.windows));
    if (c.method != "eabf")
      CHECK(r.nll == Approx(out[i]["nll_sum"].get<double>() / out[i]["count"].get<double>()).epsilon(1e-5));
    CHECK(r.ppl == Approx(std::exp(r.nll)));
  }
  auto model = eval_model("none");
  CHECK_THROWS_WITH(sliding_perplexity(*model, tokens, 64, 65), Contains("stride = 65"));
  CHECK_THROWS_WITH(sliding_perplexity(*model, tokens.slice(0, 0, 1), 64, 32), Contains("1 tokens"));
}

TEST_CASE("sliding perplexity with stride = window = n: the mean NLL of one forward pass, any chunk size",
          "[eval][ppl]") {
  auto model = eval_model("none");
  const auto tokens = torch::tensor(eval_tokens(50), torch::kInt64);
  const auto first40 = tokens.slice(0, 0, 40);
  const auto result = sliding_perplexity(*model, first40, 40, 40, /*chunk=*/1024);
  CHECK(result.windows == 1);
  CHECK(result.tokens == 39);

  torch::NoGradGuard no_grad;
  const auto logits = model->forward(first40.unsqueeze(0)).squeeze(0);
  const double expected =
      torch::nn::functional::cross_entropy(logits.slice(0, 0, 39), tokens.slice(0, 1, 40)).item<double>();
  CHECK(result.nll == Approx(expected).epsilon(1e-6));
  CHECK(result.ppl == Approx(std::exp(expected)).epsilon(1e-6));
  CHECK(sliding_perplexity(*model, first40, 40, 40, /*chunk=*/7).nll == Approx(result.nll).epsilon(1e-6));
}

TEST_CASE("eval documents: BOS + text + EOS concatenated; missing, empty and bad files fail by name",
          "[eval][ppl]") {
  TempDir dir;
  const auto tokenizer = data::Tokenizer::load("data/tokenizer.model");
  write_text(dir / "docs.jsonl", "{\"text\": \"In the beginning\"}\n{\"text\": \"God created\"}\n");
  const auto all = load_document_tokens((dir / "docs.jsonl").string(), tokenizer, 0);
  const auto a = tokenizer.encode("In the beginning");
  const auto b = tokenizer.encode("God created");
  CHECK(static_cast<size_t>(all.size()) == a.size() + b.size() + 4);
  CHECK(all.front() == tokenizer.bos_id());
  CHECK(all[a.size() + 1] == tokenizer.eos_id());
  CHECK(load_document_tokens((dir / "docs.jsonl").string(), tokenizer, 3).size() == 3);

  CHECK_THROWS_WITH(load_document_tokens((dir / "missing.jsonl").string(), tokenizer, 0),
                    Contains("missing.jsonl") && Contains("no such file"));
  write_text(dir / "empty.jsonl", "");
  CHECK_THROWS_WITH(load_document_tokens((dir / "empty.jsonl").string(), tokenizer, 0),
                    Contains("empty.jsonl") && Contains("no documents"));
  write_text(dir / "blank.jsonl", "{\"text\": \"  \"}\n");
  CHECK_THROWS_WITH(load_document_tokens((dir / "blank.jsonl").string(), tokenizer, 0),
                    Contains("blank.jsonl") && Contains("empty text"));
  write_text(dir / "bad.jsonl", "{\"text\": \"ok\"}\n{not json\n");
  CHECK_THROWS_WITH(load_document_tokens((dir / "bad.jsonl").string(), tokenizer, 0), Contains("bad.jsonl:2"));
}

TEST_CASE("eval limits: 8x the extended context unless --max-length says otherwise", "[eval]") {
  rope::RopeOptions rope;
  rope.type = "yarn";
  rope.original_max_position_embeddings = 256;
  rope.factor = 4;
  CHECK(max_eval_length(rope, 0) == 8192);
  CHECK(max_eval_length(rope, 3000) == 3000);
  CHECK_NOTHROW(check_eval_length(8192, rope, 0, "--lengths"));
  CHECK_THROWS_WITH(check_eval_length(8193, rope, 0, "--lengths"),
                    Contains("--lengths 8193") && Contains("8192") && Contains("--max-length"));
  CHECK_THROWS_WITH(check_eval_length(3001, rope, 3000, "--lengths"), Contains("beyond --max-length 3000"));
  CHECK_THROWS_WITH(check_eval_length(1, rope, 0, "--lengths"), Contains("at least 2"));
}
