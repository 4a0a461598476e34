// The ablation of "same data, same budget, different RoPE": one training config (`base`), a list
// of methods (a name and `rope:` overrides; "none" is the base evaluated as is, untrained), one
// set of evaluations (eval/eval_suite.h) on each method's exported model. Writes <output_dir>/results.json,
// results.md (method x length: perplexity, passkey accuracy, LongBench scores, training time) and PNG plots via
// scripts/plot_ablation.py. Config (configs/tiny/ablation.yaml):
//   base: configs/tiny/eabf.yaml          # a training config, relative to this file or the cwd
//   base_overrides: [train.steps=6]       # key=value applied to the base for every method
//   output_dir: runs/tiny-ablation        # one sub-folder per method
//   methods:
//     - {name: none}
//     - {name: pi, rope: {type: pi, factor: 4}}
//   eval:
//     documents: data/pretrain/valid.jsonl   # {"text"} JSONL, concatenated (eval/eval_documents.h)
//     tokenizer: data/tokenizer.model
//     max_tokens: 4096                       # tokens of the stream scored at every length
//     ppl_lengths: [256, 512, 1024]
//     stride: 0                              # 0: the window length (disjoint windows)
//     passkey: {lengths: [256, 1024], depths: [0, 0.5, 1], trials: 3, seed: 0, max_new_tokens: 8}
//     entropy_lengths: [256, 1024]
//     longbench: {data: LongBench/data, tasks: [hotpotqa], truncate_to: 0, chat: false, limit: 0}
//                                            # optional; `ctxext eval longbench`'s flags (eval/longbench.h)
//     max_length: 0                          # 0: 8x each method's extended context (eval/eval_limits.h)
//   plots: true
#pragma once
#include <nlohmann/json.hpp>

#include <filesystem>
#include <string>
#include <vector>

#include "core/config.h"
#include "eval/eval_suite.h"
#include "recipes/job_config.h"

namespace ctxext::recipes {

struct AblationMethod {
  std::string name;
  std::vector<std::string> rope_overrides;  // "rope.key=value"
};

class AblateRecipe {
 public:
  // Parses and validates the ablation config and every method's training config, each once; nothing
  // runs yet.
  AblateRecipe(const std::string& config_path, const std::vector<std::string>& overrides);

  void run();      // train (except "none") and evaluate each method in turn, then write results

  const std::filesystem::path& output_dir() const { return output_dir_; }

 private:
  struct MethodRun {
    AblationMethod method;
    Config config;  // the base, base_overrides, output_dir and the method's rope, parsed once
    JobConfig job;  // parse_job_config(config): what TrainRecipe trains and "none" evaluates
  };

  void read_longbench_options(const ConfigNode& longbench);
  Config method_config(const AblationMethod& method) const;
  nlohmann::json evaluate(const MethodRun& run, const std::filesystem::path& model_dir, double train_seconds);
  void write_results(const nlohmann::json& results) const;

  std::string config_path_;
  std::string base_path_;
  std::vector<std::string> base_overrides_;
  std::filesystem::path output_dir_;
  std::vector<MethodRun> methods_;
  std::string tokenizer_;
  eval::EvalSuiteOptions eval_;  // every method's evaluation (eval/eval_suite.h)
  bool plots_ = true;
};

}  // namespace ctxext::recipes
