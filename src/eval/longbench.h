// LongBench-format evaluation: JSONL samples {"input", "context", "answers", "all_classes",
// "length"?} (THUDM/LongBench's data/*.jsonl), the task's standard prompt, truncation from the
// middle, greedy decoding with a KV cache and LongBench's metric, as its pred.py + eval.py do:
//
//   ids    = BOS + encode(prompt)
//   if |ids| > truncate_to:  prompt = decode(ids[:h]) + decode(ids[-h:]),  h = truncate_to / 2
//   chat tasks with the chat template:  prompt = "[INST]" + prompt + "[/INST]"   (pred.py's llama2 form)
//   prediction = greedy decode of BOS + encode(prompt), max_new_tokens of the task, stop at EOS
//   task score = 100 x mean over samples of max over answers of metric(prediction, answer)
#pragma once
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "data/tokenizer.h"
#include "eval/longbench_tasks.h"
#include "model/llama_model.h"
#include "rope/rope_options.h"

namespace ctxext::eval {

struct LongBenchSample {
  std::string source;  // "file:line"
  std::string input;
  std::string context;
  std::vector<std::string> answers;      // at least one
  std::vector<std::string> all_classes;  // empty when the record has null
  int64_t length = -1;                   // LongBench's word/character count, -1 when absent
};

// The JSONL file of `task` under `data`: `data` itself when it is a file (only when one task is
// asked for, `several` false), else <data>/<task>.jsonl. Fails naming `data` when neither exists.
std::string longbench_task_file(const std::string& data, const std::string& task, bool several);

// The first `limit` samples (0 = all) of a LongBench JSONL file. Fails naming file:line for a
// missing file, malformed JSON, a missing or mistyped field, empty answers, or an empty file; a
// classification task without all_classes fails too.
std::vector<LongBenchSample> read_longbench_samples(const std::string& path, const LongBenchTask& task,
                                                    int64_t limit);

struct LongBenchPromptOptions {
  int64_t truncate_to = 0;  // tokens (BOS included) the prompt is cut to from the middle; > 1
  bool chat = false;        // wrap chat tasks in LLaMA-2's [INST] ... [/INST]
};

// The prompt budget for `task`: `requested` when > 0, else the method's extended context - 64 (room
// for the chat tags and re-tokenisation) - the task's answer tokens. Fails, naming `what`, when that
// default is below 2 tokens.
int64_t longbench_truncate_to(const LongBenchTask& task, const rope::RopeOptions& rope, int64_t requested,
                              const std::string& what);

struct LongBenchPrompt {
  std::vector<int64_t> ids;  // BOS + encode(final prompt)
  bool truncated = false;
};

// The task's template filled with the sample (one pass: braces inside the text stay as they are),
// truncated and wrapped as above.
LongBenchPrompt build_longbench_prompt(const LongBenchTask& task, const LongBenchSample& sample,
                                       const data::Tokenizer& tokenizer, const LongBenchPromptOptions& options);

struct LongBenchPrediction {
  std::string source;
  std::string prediction;  // decoded new tokens, EOS dropped
  double score = 0.0;      // [0, 1]
  int64_t prompt_tokens = 0;
  bool truncated = false;
};

struct LongBenchResult {
  std::string task;
  std::vector<LongBenchPrediction> predictions;  // in file order
  double score = 0.0;                            // 100 x mean, LongBench's scale (rounded when printed)
  int64_t truncated = 0;
};

// `max_prompt_tokens`: prompts longer than this (after truncation and wrapping) fail naming the
// sample. `on_sample(done, total)` reports progress.
LongBenchResult run_longbench(model::LlamaForCausalLMImpl& model, const data::Tokenizer& tokenizer,
                              const LongBenchTask& task, const std::vector<LongBenchSample>& samples,
                              const LongBenchPromptOptions& options, int64_t max_prompt_tokens,
                              const std::function<void(int64_t, int64_t)>& on_sample = {});

}  // namespace ctxext::eval
