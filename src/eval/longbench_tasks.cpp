#include "eval/longbench_tasks.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "core/error.h"

namespace ctxext::eval {

namespace {

// The prompts are LongBench's, character for character; the three multi-document QA tasks share one.
const std::string kMultiDocQa =
    "Answer the question based on the given passages. Only give me the answer and do not output any other "
    "words.\n\nThe following are given passages.\n{context}\n\nAnswer the question based on the given passages. "
    "Only give me the answer and do not output any other words.\n\nQuestion: {input}\nAnswer:";

const std::vector<LongBenchTask>& tasks() {
  using M = LongBenchMetric;
  static const std::vector<LongBenchTask> table = {
      {"narrativeqa",
       "You are given a story, which can be either a novel or a movie script, and a question. Answer the question "
       "as concisely as you can, using a single phrase if possible. Do not provide any explanation.\n\nStory: "
       "{context}\n\nNow, answer the question based on the story as concisely as you can, using a single phrase if "
       "possible. Do not provide any explanation.\n\nQuestion: {input}\n\nAnswer:",
       128, M::qa_f1, true, false},
      {"qasper",
       "You are given a scientific article and a question. Answer the question as concisely as you can, using a "
       "single phrase or sentence if possible. If the question cannot be answered based on the information in the "
       "article, write \"unanswerable\". If the question is a yes/no question, answer \"yes\", \"no\", or "
       "\"unanswerable\". Do not provide any explanation.\n\nArticle: {context}\n\n Answer the question based on "
       "the above article as concisely as you can, using a single phrase or sentence if possible. If the question "
       "cannot be answered based on the information in the article, write \"unanswerable\". If the question is a "
       "yes/no question, answer \"yes\", \"no\", or \"unanswerable\". Do not provide any explanation.\n\nQuestion: "
       "{input}\n\nAnswer:",
       128, M::qa_f1, true, false},
      {"multifieldqa_en",
       "Read the following text and answer briefly.\n\n{context}\n\nNow, answer the following question based on "
       "the above text, only give me the answer and do not output any other words.\n\nQuestion: {input}\nAnswer:",
       64, M::qa_f1, true, false},
      {"hotpotqa", kMultiDocQa, 32, M::qa_f1, true, false},
      {"2wikimqa", kMultiDocQa, 32, M::qa_f1, true, false},
      {"musique", kMultiDocQa, 32, M::qa_f1, true, false},
      {"trec",
       "Please determine the type of the question below. Here are some examples of questions.\n\n{context}\n{input}",
       64, M::classification, false, true},
      {"triviaqa",
       "Answer the question based on the given passage. Only give me the answer and do not output any other words. "
       "The following are some examples.\n\n{context}\n\n{input}",
       32, M::qa_f1, false, true},
      {"passage_count",
       "There are some paragraphs below sourced from Wikipedia. Some of them may be duplicates. Please carefully "
       "read these paragraphs and determine how many unique paragraphs there are after removing duplicates. In "
       "other words, how many non-repeating paragraphs are there in total?\n\n{context}\n\nPlease enter the final "
       "count of unique paragraphs after removing duplicates. The output format should only contain the number, "
       "such as 1, 2, 3, and so on.\n\nThe final answer is: ",
       32, M::count, true, false},
      {"passage_retrieval_en",
       "Here are 30 paragraphs from Wikipedia, along with an abstract. Please determine which paragraph the "
       "abstract is from.\n\n{context}\n\nThe following is an abstract.\n\n{input}\n\nPlease enter the number of "
       "the paragraph that the abstract is from. The answer format must be like \"Paragraph 1\", \"Paragraph 2\", "
       "etc.\n\nThe answer is: ",
       32, M::retrieval, true, false},
  };
  return table;
}

}  // namespace

const LongBenchTask& longbench_task(const std::string& name) {
  for (const auto& task : tasks())
    if (task.name == name) return task;
  fail("unknown LongBench task '{}' (known: {})", name, fmt::join(longbench_task_names(), ", "));
}

std::vector<std::string> longbench_task_names() {
  std::vector<std::string> names;
  for (const auto& task : tasks()) names.push_back(task.name);
  return names;
}

std::string to_string(LongBenchMetric metric) {
  switch (metric) {
    case LongBenchMetric::qa_f1: return "qa_f1";
    case LongBenchMetric::retrieval: return "retrieval";
    case LongBenchMetric::count: return "count";
    case LongBenchMetric::classification: return "classification";
  }
  return "?";
}

}  // namespace ctxext::eval
