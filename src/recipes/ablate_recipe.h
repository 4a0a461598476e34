// The ablation of "same data, same budget, different RoPE", as a grid: RoPE methods x data sizes x
// seeds, one training config (`base`) for all, one set of evaluations (eval/eval_suite.h) at each
// evaluation length. A cell is one method at one data size and one seed: a TrainRecipe run in
// <output_dir>/<method>/n<size>-seed<seed>/ and its evaluation, kept there as ablation_cell.json.
// "none" is the base evaluated as is (untrained): one cell (once per seed only when the base is a
// seeded random preset). Results over seeds (recipes/ablation_summary.h: mean and 95% intervals)
// go to <output_dir>/results.json and results.md, plots via scripts/plot_ablation.py.
//
// Resumable: a cell whose ablation_cell.json holds this config's training config and evaluation
// options is not run again; a cell trained before (ablation_trained.json) whose evaluation options
// changed is re-evaluated from its export, not retrained; a cell whose training config changed is
// refused before anything runs (delete its folder to redo it). A cell interrupted mid-training
// resumes from its last checkpoint (the base's resume: auto).
//
// Config (configs/tiny/ablation.yaml):
//   base: configs/tiny/eabf.yaml          # a training config, relative to this file or the cwd
//   base_overrides: [train.steps=6]       # key=value applied to the base for every cell
//   output_dir: runs/tiny-ablation        # <method>/<cell>/ per cell
//   num_samples: [32, 100]                # data sizes: data.num_samples per cell (default: the base's)
//   seeds: [0, 1, 2]                      # each sets data.seed (sample choice with data.select: random,
//                                         # and order) and runtime.seed (torch's draws; a preset's
//                                         # weights); default: the base's seeds, one run per size
//   methods:
//     - {name: none}
//     - {name: pi, rope: {type: pi, factor: 4}}
//   eval:
//     documents: data/pretrain/valid.jsonl   # {"text"} JSONL, concatenated (eval/eval_documents.h)
//     tokenizer: data/tokenizer.model
//     max_tokens: 4096                       # tokens of the stream scored at every length
//     ppl_lengths: [256, 512, 1024]          # with passkey.lengths: the robustness axis
//     stride: 0                              # 0: the window length (disjoint windows)
//     passkey: {lengths: [256, 1024], depths: [0, 0.5, 1], trials: 3, seed: 0, max_new_tokens: 8}
//     entropy_lengths: [256, 1024]
//     longbench: {data: LongBench/data, tasks: [hotpotqa], truncate_to: 0, chat: false, limit: 0}
//                                            # optional; `ctxext eval longbench`'s flags (eval/longbench.h)
//     max_length: 0                          # 0: 8x each method's extended context (eval/eval_limits.h)
//   plots: true
#pragma once
#include <nlohmann/json.hpp>

#include <cstdint>
#include <filesystem>
#include <optional>
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

// One run of the grid.
struct AblationCell {
  size_t method = 0;                   // index into the config's methods
  std::optional<int64_t> num_samples;  // data.num_samples; unset for "none"
  std::optional<int64_t> seed;         // data.seed and runtime.seed; unset: the base's
  std::filesystem::path dir;           // the training run's output_dir and the cell's results
  Config config;                       // the base, base_overrides, output_dir, rope, size and seed, parsed once
  JobConfig job;                       // parse_job_config(config)
};

class AblateRecipe {
 public:
  // Parses and validates the ablation config and every cell's training config, each once, and
  // checks the cells finished before against them; nothing runs yet.
  AblateRecipe(const std::string& config_path, const std::vector<std::string>& overrides);

  // Trains (except "none") and evaluates every cell not finished before, one progress line with the
  // grid's ETA after each, then writes results over all cells.
  void run();

  const std::filesystem::path& output_dir() const { return output_dir_; }
  const std::vector<AblationCell>& cells() const { return cells_; }

 private:
  enum class CellState { finished, evaluate, train };

  void read_grid_axes(const ConfigNode& root);
  void read_eval_options(const ConfigNode& e);
  void read_longbench_options(const ConfigNode& longbench);
  void add_cells(const ConfigNode& root);
  Config cell_config(const AblationMethod& method, const std::filesystem::path& dir, std::optional<int64_t> num_samples,
                     std::optional<int64_t> seed) const;
  std::string cell_label(const AblationCell& cell) const;
  CellState cell_state(const AblationCell& cell) const;
  nlohmann::json evaluate(const AblationCell& cell, const std::filesystem::path& model_dir) const;
  nlohmann::json eval_fingerprint() const;
  void write_results(const nlohmann::json& cells, int64_t ran, double wall_seconds) const;

  std::string config_path_;
  std::string base_path_;
  std::vector<std::string> base_overrides_;
  std::filesystem::path output_dir_;
  std::vector<AblationMethod> methods_;
  std::vector<std::optional<int64_t>> num_samples_;  // {nullopt}: the base's
  std::vector<std::optional<int64_t>> seeds_;        // {nullopt}: the base's
  std::vector<AblationCell> cells_;
  std::string tokenizer_;
  std::string longbench_data_;
  int64_t longbench_limit_ = 0;
  eval::EvalSuiteOptions eval_;  // every cell's evaluation (eval/eval_suite.h)
  bool plots_ = true;
};

}  // namespace ctxext::recipes
