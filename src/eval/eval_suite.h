// One evaluation of one model: any set of {sliding-window perplexity sweep, passkey retrieval,
// attention entropy, LongBench} with one set of options, one result object, one JSON schema and one
// set of tables. `ctxext eval <task>` and `ctxext ablate` both run it and only print or write what
// it returns.
//
//   check_eval_suite(options, rope)      every length against the method's limit, before any load
//   run_eval_suite(model, tok, options)  the document stream once, then each requested evaluation
//   to_json(results), eval_tables(results)
#pragma once
#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>
#include <vector>

#include "data/tokenizer.h"
#include "eval/attention_entropy.h"
#include "eval/longbench.h"
#include "eval/passkey.h"
#include "eval/sliding_perplexity.h"
#include "model/llama_model.h"
#include "rope/rope_options.h"

namespace ctxext::eval {

struct EntropyOptions {
  std::vector<int64_t> lengths;  // context lengths n: the query at position n - 1 over n keys; empty: none
  int64_t samples = 1;           // disjoint stretches of the document stream, each max(lengths) long, averaged
};

struct LongBenchSuiteOptions {
  std::vector<std::string> tasks;                     // LongBench task names; empty: none
  std::vector<std::vector<LongBenchSample>> samples;  // per task, read before the model loads
  int64_t truncate_to = 0;                            // 0: extended context - 64 - the task's answer tokens
  bool chat = false;
};

struct EvalSuiteOptions {
  std::string documents;             // JSONL {"text"}: the stream of the perplexity sweep and the entropy probe
  int64_t max_tokens = 0;            // tokens of that stream used (0 = all)
  std::vector<int64_t> ppl_lengths;  // window lengths; empty: no perplexity sweep
  int64_t stride = 0;                // 0: the window length (disjoint windows)
  PasskeyOptions passkey;            // lengths empty: no passkey
  EntropyOptions entropy;
  LongBenchSuiteOptions longbench;
  int64_t max_length = 0;                         // longest length allowed (eval/eval_limits.h); 0: the default
  std::string lengths_name = "eval length";       // what a length error names (a flag or config key)
  std::string truncate_name = "truncate_to";      // what a LongBench budget error names
  std::string progress_label;                     // prefix of the progress lines (an ablation's method name)
};

struct LongBenchScore {
  LongBenchResult result;
  std::string metric;
  int64_t truncate_to = 0;
  double mean_prompt_tokens = 0.0;
};

struct EvalResults {
  std::vector<SlidingPerplexity> ppl;  // per ppl length (window = the length)
  PasskeyReport passkey;               // cells empty when not run
  std::vector<EntropyProbe> entropy;   // per entropy length, averaged over the samples
  std::vector<LongBenchScore> longbench;  // per task
};

// Fails, naming options.lengths_name / truncate_name, for a length outside [2, max_eval_length] or a
// LongBench budget that does not fit; also for entropy samples < 1 or a negative stride.
void check_eval_suite(const EvalSuiteOptions& options, const rope::RopeOptions& rope);

// Runs every requested evaluation in the order ppl, passkey, entropy, LongBench, with progress lines.
// Fails naming options.documents when the stream is shorter than a length needs.
EvalResults run_eval_suite(model::LlamaForCausalLMImpl& model, const data::Tokenizer& tokenizer,
                           const EvalSuiteOptions& options);

// {"ppl": [...], "passkey": [...cells], "entropy": [...], "longbench": [...]}; each entry is one
// line of `ctxext eval <task> --json`.
nlohmann::json to_json(const EvalResults& results);

// One Markdown table per evaluation that ran, separated by a blank line.
std::string eval_tables(const EvalResults& results);

// Every LongBench prediction as JSONL: LongBench's pred/ fields (pred, answers, all_classes,
// length) plus task, source and score.
std::string longbench_predictions_jsonl(const EvalResults& results, const EvalSuiteOptions& options);

}  // namespace ctxext::eval
