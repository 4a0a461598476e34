// The fine-tuning recipe of "Extending LLMs' Context Window with 100 Samples", top to bottom:
// load the base model, swap in the extended RoPE, read N long conversations, train a few AdamW
// steps on the assistant tokens, checkpoint crash-safely, export an HF folder.
#pragma once
#include <filesystem>
#include <memory>
#include <optional>
#include <string>

#include "core/config.h"
#include "data/dataset.h"
#include "model/llama_model.h"
#include "recipes/job_config.h"
#include "train/checkpoint_store.h"
#include "train/master_weights.h"
#include "train/metrics_log.h"
#include "train/train_plan.h"

namespace ctxext {

class TrainRecipe {
 public:
  // Parses and validates the whole config; nothing is loaded or written yet.
  explicit TrainRecipe(const Config& config);

  void setup();    // threads, seed, model + RoPE, tokenizer + data, optimizer, resume
  void train();    // the optimizer steps, with metrics, progress and periodic checkpoints
  void save();     // final checkpoint, then the HF export in <output_dir>/export
  void cleanup();  // release the model and data

  const std::filesystem::path& output_dir() const { return output_dir_; }

 private:
  // One optimizer step over the global batch starting at the current data position.
  // Returns false when the step was skipped for a non-finite loss or gradient.
  bool train_step(StepMetrics& metrics);
  void save_checkpoint_now();
  void resume_from(const std::filesystem::path& folder);
  torch::Device device() const;

  Config config_;
  JobConfig job_;
  std::filesystem::path output_dir_;

  LlamaConfig model_config_;
  LlamaForCausalLM model_{nullptr};
  NamedTensors params_;
  std::unique_ptr<MasterWeights> masters_;
  std::unique_ptr<torch::optim::AdamW> optimizer_;
  data::Dataset dataset_;
  std::unique_ptr<data::SampleOrder> order_;
  TrainPlan plan_;  // the resolved steps and each step's data position
  std::unique_ptr<MetricsLog> metrics_;
  TrainerState state_;
};

}  // namespace ctxext
