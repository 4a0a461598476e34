// The LongBench tasks ctxext can score: those whose metric is F1, accuracy-like retrieval/count, or
// classification (THUDM/LongBench: config/dataset2prompt.json, dataset2maxlen.json, eval.py). The
// summarisation (ROUGE), code (edit similarity) and Chinese tasks are left out.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace ctxext::eval {

enum class LongBenchMetric { qa_f1, retrieval, count, classification };

struct LongBenchTask {
  std::string name;             // LongBench's dataset name, e.g. "hotpotqa"
  std::string prompt_template;  // with {context} and {input}
  int64_t max_new_tokens;       // LongBench's dataset2maxlen
  LongBenchMetric metric;
  bool chat;                    // wrapped in the chat template (LongBench skips it for few-shot tasks)
  bool first_line_only;         // scored on the first line of the prediction (trec, triviaqa)
};

// Fails naming the unknown task and listing the known ones.
const LongBenchTask& longbench_task(const std::string& name);
std::vector<std::string> longbench_task_names();
std::string to_string(LongBenchMetric metric);

}  // namespace ctxext::eval
