// LongBench: the metrics on hand-worked cases (LongBench's metrics.py semantics, quirks included),
// prompts equal to LongBench pred.py's steps with a Hugging Face tokenizer (oracle), and bad
// sample files failing with file:line.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "core/error.h"
#include "eval/longbench.h"
#include "eval/longbench_metrics.h"
#include "eval_fixtures.h"
#include "support/test_support.h"

using namespace ctxext;
using namespace ctxext::eval;
using namespace ctxext::testing;
using Catch::Matchers::Contains;

namespace {

const std::string kFixtures = "tests/eval/fixtures/longbench/";

}  // namespace

TEST_CASE("longbench metrics: normalisation, F1, count, retrieval, classification", "[eval][longbench]") {
  CHECK(normalize_answer("The Cat, sat on a mat!") == "cat sat on mat");
  CHECK(normalize_answer("  Theatre\tAN-ode  the-end ") == "theatre anode theend");
  CHECK(normalize_answer("An apple, the pear") == "apple pear");

  CHECK(qa_f1_score("Boaz of Bethlehem", "Boaz") == Approx(0.5));      // P 1/3, R 1
  CHECK(qa_f1_score("Moab Moab", "moab") == Approx(2.0 / 3.0));         // one of two predicted words
  CHECK(qa_f1_score("the", "a") == 0.0);                                // both empty after normalising
  CHECK(qa_f1_score("Boaz", "Naomi") == 0.0);

  CHECK(count_score("There are 3 paragraphs, not 4 or 3", "3") == Approx(2.0 / 3.0));
  CHECK(count_score("03", "3") == 0.0);
  CHECK(count_score("no number", "3") == 0.0);

  CHECK(retrieval_score("Paragraph 2", "Paragraph 2") == 1.0);
  CHECK(retrieval_score("Paragraph 12, or Paragraph 2", "Paragraph 2") == Approx(0.5));
  CHECK_THROWS_WITH(retrieval_score("2", "the second"), Contains("'Paragraph N'"));

  const std::vector<std::string> classes = {"Distance", "Definition of something", "Individual",
                                            "Description of a person"};
  CHECK(classification_score("Individual", "Individual", classes) == 1.0);
  CHECK(classification_score("Description of a person or Individual", "Individual", classes) == Approx(0.5));
  CHECK(classification_score("Distance", "Individual", classes) == 0.0);
  // LongBench removes while iterating: "a" goes, "ab" is skipped and stays -> 1/2, not 1.
  CHECK(classification_score("abc", "abc", {"a", "ab", "abc"}) == Approx(0.5));

  const auto& trec = longbench_task("trec");
  CHECK(longbench_sample_score(trec, "\n\nIndividual\nDistance", {"Individual"}, classes) == 1.0);
  CHECK(longbench_sample_score(trec, "Distance\nIndividual", {"Individual"}, classes) == 0.0);
  const auto& hotpot = longbench_task("hotpotqa");
  CHECK(longbench_sample_score(hotpot, "land of Moab", {"Moab", "the land of Moab"}, {}) == 1.0);
  CHECK(longbench_sample_score(hotpot, "Moab\nand more", {"Moab"}, {}) == Approx(0.5));  // not first-line only
  CHECK_THROWS_WITH(longbench_task("lcc"), Contains("unknown LongBench task 'lcc'") && Contains("hotpotqa"));
}

TEST_CASE("longbench prompts: template, middle truncation and chat wrap equal LongBench's with HF's tokenizer",
          "[eval][longbench][oracle]") {
  struct Case {
    std::string task;
    int64_t truncate_to;
    bool chat;
  };
  const std::vector<Case> cases = {{"hotpotqa", 4000, false}, {"hotpotqa", 40, false}, {"hotpotqa", 41, true},
                                   {"trec", 30, true},        {"passage_count", 57, true},
                                   {"passage_retrieval_en", 64, false}};
  nlohmann::json jobs = nlohmann::json::array();
  std::vector<LongBenchPrompt> ours;
  for (const auto& c : cases) {
    const auto& task = longbench_task(c.task);
    for (const auto& sample : read_longbench_samples(kFixtures + c.task + ".jsonl", task, 0)) {
      ours.push_back(build_longbench_prompt(task, sample, embedded_tokenizer(), {c.truncate_to, c.chat}));
      jobs.push_back({{"template", task.prompt_template},
                      {"sample", {{"context", sample.context}, {"input", sample.input}}},
                      {"max_length", c.truncate_to},
                      {"chat", c.chat && task.chat}});
    }
  }
  TempDir dir;
  write_text(dir / "cases.json", jobs.dump());
  const auto expected = nlohmann::json::parse(
      run_oracle("longbench_prompt.py", {"data/tokenizer.model", (dir / "cases.json").string()}));
  REQUIRE(expected.size() == ours.size());
  int truncated = 0;
  for (size_t i = 0; i < ours.size(); ++i) {
    INFO("case " << i << ": " << jobs[i].dump());
    CHECK(ours[i].ids == expected[i].get<std::vector<int64_t>>());
    truncated += ours[i].truncated ? 1 : 0;
  }
  CHECK(truncated == static_cast<int>(ours.size()) - 2);  // all but the two hotpotqa samples at 4000
  // The braces inside a sample stay text.
  CHECK_THAT(embedded_tokenizer().decode(ours[1].ids), Contains("{not a placeholder}"));
}

TEST_CASE("longbench truncate_to: the requested budget, else the extended context minus room and answer tokens",
          "[eval][longbench]") {
  const auto& hotpot = longbench_task("hotpotqa");  // 32 answer tokens
  rope::RopeOptions rope;
  rope.original_max_position_embeddings = 1024;
  CHECK(longbench_truncate_to(hotpot, rope, 500, "--truncate-to") == 500);
  CHECK(longbench_truncate_to(hotpot, rope, 0, "--truncate-to") == rope.extended_context() - 64 - 32);
  rope.original_max_position_embeddings = 64;
  CHECK_THROWS_WITH(longbench_truncate_to(hotpot, rope, 0, "--truncate-to"),
                    Contains("--truncate-to: the default") && Contains("too small for this model"));
}

TEST_CASE("longbench samples: fields read, limit, bad files fail naming file:line", "[eval][longbench]") {
  const auto& hotpot = longbench_task("hotpotqa");
  const auto all = read_longbench_samples(kFixtures + "hotpotqa.jsonl", hotpot, 0);
  REQUIRE(all.size() == 2);
  CHECK(all[1].answers == std::vector<std::string>{"Moab", "the land of Moab"});
  CHECK(all[1].length == 27);
  CHECK(all[0].source == kFixtures + "hotpotqa.jsonl:1");
  CHECK(read_longbench_samples(kFixtures + "hotpotqa.jsonl", hotpot, 1).size() == 1);
  CHECK(read_longbench_samples(kFixtures + "trec.jsonl", longbench_task("trec"), 0)[0].all_classes.size() == 4);

  TempDir dir;
  const auto bad = [&](const std::string& name, const std::string& text, const LongBenchTask& task) {
    write_text(dir / name, text);
    try {
      read_longbench_samples((dir / name).string(), task, 0);
    } catch (const Error& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  const std::string ok = R"({"input": "q", "context": "c", "answers": ["a"], "all_classes": null})";
  CHECK_THAT(bad("a.jsonl", ok + "\n{\"input\": \"q\", \"context\": \"c\"}\n", hotpot),
             Contains("a.jsonl:2") && Contains("'answers'"));
  CHECK_THAT(bad("b.jsonl", R"({"input": "q", "context": "c", "answers": "a"})", hotpot),
             Contains("b.jsonl:1") && Contains("list of strings"));
  CHECK_THAT(bad("c.jsonl", R"({"input": "q", "context": "c", "answers": []})", hotpot), Contains("c.jsonl:1: field 'answers' is empty"));
  CHECK_THAT(bad("d.jsonl", R"({"input": 3, "context": "c", "answers": ["a"]})", hotpot),
             Contains("d.jsonl:1") && Contains("'input'"));
  CHECK_THAT(bad("e.jsonl", ok + "\n{not json\n", hotpot), Contains("e.jsonl:2"));
  CHECK_THAT(bad("f.jsonl", "\n", hotpot), Contains("f.jsonl: no samples"));
  CHECK_THAT(bad("g.jsonl", ok + "\n", longbench_task("trec")), Contains("g.jsonl:1: task trec needs field 'all_classes'"));
  CHECK_THAT(bad("h.jsonl", R"({"input": "q", "context": "c", "answers": ["a"], "length": "long"})", hotpot),
             Contains("h.jsonl:1: field 'length' must be an integer"));
  CHECK_THROWS_WITH(read_longbench_samples((dir / "missing.jsonl").string(), hotpot, 0), Contains("missing.jsonl: no such file"));
}
