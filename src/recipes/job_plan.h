// The resolved plan of a training job, as `ctxext validate` prints it and `ctxext train` logs it once
// at its start: the model's shape and parameter count, the RoPE method with every effective value,
// the samples kept and dropped (and by which rule), the steps and tokens per step, the held-out eval,
// and the memory the planner predicts per rank (train/memory_plan.h, as `ctxext plan` computes it).
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "data/dataset.h"
#include "model/llama_config.h"
#include "recipes/job_config.h"
#include "train/memory_plan.h"
#include "train/train_plan.h"

namespace ctxext::recipes {

// The planner's input for this job on `world_size` ranks: the model's shape, data.max_seq_len tokens per
// sample, the train: section's micro batch, sharding, offload and activation checkpointing; bf16 for
// train.precision bf16, or auto on CUDA (what the trainer computes in).
train::MemoryPlanInput memory_plan_input(const JobConfig& job, const model::LlamaConfig& model, int64_t world_size,
                                         bool cuda);
// "micro batch 1 x 16384 tokens (data.max_seq_len), bf16, sharding full, offload optimizer, activation
// checkpointing on, 4 rank(s)": the settings a plan was made for.
std::string memory_plan_settings(const train::MemoryPlanInput& in);

struct JobPlanInput {
  const JobConfig& job;
  const model::LlamaConfig& model;  // the shape, with the RoPE method the job trains
  const data::Dataset& dataset;     // the training samples, after the length policy and selection
  const train::TrainPlan& plan;     // resolved from the samples (train::resolve_steps)
  const data::Dataset* eval_dataset = nullptr;  // data.eval_path's samples, when train.eval_every > 0
  int64_t world_size = 1;
};

// One line per topic, each starting with its name: "model: ", "rope: ", "data: ", "plan: ", ("eval: "),
// "memory: ".
std::vector<std::string> describe_job_plan(const JobPlanInput& in);

}  // namespace ctxext::recipes
