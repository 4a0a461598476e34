// The evaluation suite: one run of every evaluation returns what the single evaluations return,
// entropy samples are averaged, lengths are checked before anything runs; a model with NaN weights
// fails with one line instead of scoring NaN; the mode guard gives a training model its mode back,
// also when an evaluation throws.
#include <catch2/catch.hpp>
#include <torch/torch.h>

#include <cmath>
#include <limits>

#include "eval/eval_documents.h"
#include "eval/eval_suite.h"
#include "eval/greedy_decode.h"
#include "eval_fixtures.h"
#include "model/mode_guard.h"

using namespace ctxext;
using namespace ctxext::eval;
using namespace ctxext::testing;
using Catch::Matchers::Contains;

namespace {

bool all_training(model::LlamaForCausalLMImpl& model, bool training) {
  for (const auto& m : model.modules(/*include_self=*/true))
    if (m->is_training() != training) return false;
  return true;
}

EvalSuiteOptions every_evaluation() {
  EvalSuiteOptions o;
  o.documents = "data/pretrain/valid.jsonl";
  o.max_tokens = 400;
  o.ppl_lengths = {64, 128};
  o.stride = 48;
  o.passkey.lengths = {100};
  o.passkey.depths = {0.0, 1.0};
  o.passkey.trials = 1;
  o.entropy.lengths = {64, 128};
  o.entropy.samples = 2;
  o.longbench.tasks = {"trec"};
  o.longbench.samples = {read_longbench_samples("tests/eval/fixtures/longbench/trec.jsonl", longbench_task("trec"), 0)};
  o.longbench.truncate_to = 60;
  return o;
}

}  // namespace

TEST_CASE("eval suite: every evaluation in one run equals running each on its own", "[eval][suite]") {
  auto model = eval_model("yarn");  // yarn x2 over L0 = 64: lengths up to 1024
  const auto& tokenizer = embedded_tokenizer();
  const auto options = every_evaluation();
  const auto results = run_eval_suite(*model, tokenizer, options);

  const auto stream = torch::tensor(load_document_tokens(options.documents, tokenizer, 400), torch::kInt64);
  REQUIRE(results.ppl.size() == 2);
  for (size_t i = 0; i < 2; ++i) {
    const auto alone = sliding_perplexity(*model, stream, options.ppl_lengths[i], 48);
    CHECK(results.ppl[i].window == options.ppl_lengths[i]);
    CHECK(results.ppl[i].nll == alone.nll);
    CHECK(results.ppl[i].tokens == alone.tokens);
  }
  const auto passkey = run_passkey(*model, tokenizer, options.passkey);
  REQUIRE(results.passkey.cells.size() == 2);
  CHECK(results.passkey.trials[1].generated == passkey.trials[1].generated);

  // Two samples: the stream's first and second stretch of 128 tokens, each probed at 64 and 128.
  REQUIRE(results.entropy.size() == 2);
  for (const auto& probe : results.entropy) {
    const auto a = probe_attention_entropy(*model, stream.slice(0, 0, probe.length));
    const auto b = probe_attention_entropy(*model, stream.slice(0, 128, 128 + probe.length));
    CHECK(probe.samples == 2);
    for (size_t layer = 0; layer < 2; ++layer) {
      CHECK(probe.per_layer[layer] == Approx((a.per_layer[layer] + b.per_layer[layer]) / 2).margin(1e-12));
      CHECK(probe.per_head[layer][3] == Approx((a.per_head[layer][3] + b.per_head[layer][3]) / 2).margin(1e-12));
    }
    CHECK(std::abs(a.per_layer[0] - b.per_layer[0]) > 1e-6);  // the samples differ: the mean is a real mean
  }
  REQUIRE(results.longbench.size() == 1);
  CHECK(results.longbench[0].result.task == "trec");
  CHECK(results.longbench[0].truncate_to == 60);

  const auto json = to_json(results);
  CHECK(json.at("ppl").size() == 2);
  CHECK(json["ppl"][1].at("length") == 128);
  CHECK(json.at("passkey").size() == 2);
  CHECK(json["entropy"][0].at("uniform").get<double>() == Approx(std::log(64.0)));
  CHECK(json["entropy"][0].at("samples") == 2);
  CHECK(json["longbench"][0].at("metric") == "classification");
  const auto tables = eval_tables(results);
  CHECK_THAT(tables, Contains("| length | stride | tokens") && Contains("| length | depth | correct") &&
                         Contains("| length | layer | entropy") && Contains("| task ") && Contains("| trec "));
  CHECK_THAT(longbench_predictions_jsonl(results, options), Contains("\"task\":\"trec\""));

  EvalSuiteOptions only_ppl;
  only_ppl.documents = options.documents;
  only_ppl.ppl_lengths = {64};
  only_ppl.max_tokens = 200;
  const auto one = run_eval_suite(*model, tokenizer, only_ppl);
  CHECK(one.passkey.cells.empty());
  CHECK(one.entropy.empty());
  CHECK(to_json(one).at("entropy").empty());
  CHECK_THAT(eval_tables(one), !Contains("| length | layer"));
}

TEST_CASE("eval suite: lengths, samples and the stream are checked, naming what is wrong", "[eval][suite]") {
  auto model = eval_model("yarn");
  const auto& rope = model->config().rope;
  auto o = every_evaluation();
  o.lengths_name = "--lengths";
  o.passkey.lengths = {2000};
  CHECK_THROWS_WITH(check_eval_suite(o, rope), Contains("--lengths 2000") && Contains("1024"));
  o = every_evaluation();
  o.entropy.samples = 0;
  CHECK_THROWS_WITH(check_eval_suite(o, rope), Contains("entropy samples 0"));
  o = every_evaluation();
  o.truncate_name = "eval.longbench.truncate_to";
  o.longbench.truncate_to = 5000;
  CHECK_THROWS_WITH(check_eval_suite(o, rope), Contains("eval.longbench.truncate_to (plus trec's answer tokens)"));
  o = every_evaluation();
  o.entropy.samples = 4;  // 4 x 128 tokens > 400
  CHECK_THROWS_WITH(run_eval_suite(*model, embedded_tokenizer(), o),
                    Contains("valid.jsonl: 400 tokens, fewer than the 512 tokens"));
}

TEST_CASE("a model with NaN weights: perplexity and entropy fail with one line instead of scoring NaN",
          "[eval][suite][nan]") {
  auto model = eval_model("none");
  {
    torch::NoGradGuard no_grad;
    model->model->layers->ptr<model::LlamaDecoderLayerImpl>(0)->self_attn->q_proj->weight.fill_(
        std::numeric_limits<float>::quiet_NaN());
  }
  const auto tokens = torch::tensor(eval_tokens(100), torch::kInt64);
  CHECK_THROWS_WITH(sliding_perplexity(*model, tokens, 64, 64),
                    Contains("NLL is nan at window 1 of 2") && Contains("not finite") && Contains("NaN"));
  CHECK_THROWS_WITH(probe_attention_entropy(*model, tokens),
                    Contains("layer 0 gives") && Contains("nan") && Contains("not finite"));
}

TEST_CASE("mode guard: evaluations run in eval mode and give the model its mode back, also on an exception",
          "[eval][mode]") {
  auto model = eval_model("none");
  model->train();
  {
    model::ModeGuard guard(*model, /*training=*/false);
    CHECK(all_training(*model, false));
  }
  CHECK(all_training(*model, true));
  try {
    model::ModeGuard guard(*model, false);
    throw std::runtime_error("boom");
  } catch (const std::runtime_error&) {
  }
  CHECK(all_training(*model, true));

  const auto good = torch::tensor(eval_tokens(40), torch::kInt64);
  const auto bad = torch::tensor(std::vector<int64_t>{1, 2, 4001, 3}, torch::kInt64);  // 4001: past the vocabulary
  sliding_perplexity(*model, good, 20, 20);
  probe_attention_entropy(*model, good);
  greedy_decode(*model, {1, 2, 3}, 2);
  CHECK(all_training(*model, true));
  CHECK_THROWS(sliding_perplexity(*model, bad, 4, 4));
  CHECK(all_training(*model, true));
  CHECK_THROWS(probe_attention_entropy(*model, bad));
  CHECK(all_training(*model, true));
  CHECK_THROWS(greedy_decode(*model, {1, 4001}, 2));
  CHECK(all_training(*model, true));

  model->eval();
  sliding_perplexity(*model, good, 20, 20);
  CHECK(all_training(*model, false));
}
