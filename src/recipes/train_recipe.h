// The fine-tuning recipe of "Extending LLMs' Context Window with 100 Samples", top to bottom:
// load the base model, swap in the extended RoPE, read N long conversations, train a few AdamW
// steps on the assistant tokens, checkpoint crash-safely, export an HF folder.
#pragma once
#include <chrono>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <utility>

#include "core/config.h"
#include "data/dataset.h"
#include "model/llama_model.h"
#include "dist/communicator.h"
#include "io/run_lock.h"
#include "recipes/job_config.h"
#include "train/checkpoint_store.h"
#include "train/metrics_log.h"
#include "train/step_profiler.h"
#include "train/weight_update.h"
#include "train/train_plan.h"

namespace ctxext::recipes {

class TrainRecipe {
 public:
  // Parses and validates the whole config (parse_job_config); nothing is loaded or written yet.
  explicit TrainRecipe(const Config& config);
  // The same for a caller that has parsed it already: `job` is parse_job_config(config).
  TrainRecipe(Config config, JobConfig job);

  void setup();    // pre-flight, threads, seed, tokenizer + data, model + RoPE, the plan logged, optimizer, resume
  void train();    // the optimizer steps, with metrics, held-out eval, progress and periodic checkpoints
  void save();     // final checkpoint, then the HF export in <output_dir>/export
  void cleanup();  // release the model and data
  // --profile-steps N: profile N steps of train() (from this process's second step, so the first warms the
  // allocator up) and write <output_dir>/profile-rank<R>.txt (op table) and .trace.json (Chrome trace).
  void set_profile_steps(int64_t steps) { profile_steps_ = steps; }

  const std::filesystem::path& output_dir() const { return output_dir_; }

 private:
  // One optimizer step over the global batch starting at the current data position.
  // Returns false when the step was skipped for a non-finite loss or gradient.
  bool train_step(train::StepMetrics& metrics);
  void save_checkpoint_now();
  // Stops the profiler after `steps` steps that took `wall` and writes/logs the profile (set_profile_steps).
  void write_profile(train::StepProfiler& profiler, int64_t steps, std::chrono::steady_clock::duration wall);
  void join_job();  // the launcher's process group, or one process
  void resume_from(const std::filesystem::path& folder);
  // The held-out eval loss (train.eval_every): every rank scores its share of eval_dataset_, the sums
  // are all-reduced; returns the mean NLL per supervised target and the targets it is over.
  std::pair<double, int64_t> heldout_eval();
  torch::Device device() const;

  Config config_;
  JobConfig job_;
  std::filesystem::path output_dir_;

  model::LlamaConfig model_config_;
  model::LlamaForCausalLM model_{nullptr};
  train::NamedTensors params_;
  std::unique_ptr<dist::Communicator> comm_;  // the data-parallel job (one process without a launcher)
  std::unique_ptr<train::WeightUpdate> update_;      // fp32 masters + AdamW, replicated or sharded over ranks
  data::Dataset dataset_;
  data::Dataset eval_dataset_;  // data.eval_path's samples; empty when train.eval_every is 0
  std::unique_ptr<data::SampleOrder> order_;
  train::TrainPlan plan_;  // the resolved steps and each step's data position
  std::unique_ptr<train::MetricsLog> metrics_;
  train::TrainerState state_;
  std::unique_ptr<io::RunLock> run_lock_;  // held by the main process from setup() to destruction
  int64_t profile_steps_ = 0;          // 0: no profile
  bool complete_ = false;              // setup() found the run finished: train() and save() do nothing
};

}  // namespace ctxext::recipes
