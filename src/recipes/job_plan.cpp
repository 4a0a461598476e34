#include "recipes/job_plan.h"

#include <fmt/format.h>

#include <algorithm>

#include "model/rope_description.h"

namespace ctxext::recipes {
namespace {

std::string gigabytes(double bytes) { return fmt::format("{:.2f} GB", bytes / 1e9); }

std::string model_line(const JobConfig& job, const model::LlamaConfig& c) {
  const int64_t parameters = c.num_parameters();
  return fmt::format("model: {}: {} parameters ({:.3f} B), {} layers, hidden {}, intermediate {}, {} heads ({} "
                     "key/value), head dim {}, vocab {}{}",
                     job.model.path.empty() ? "preset " + job.model.preset : job.model.path, parameters,
                     static_cast<double>(parameters) / 1e9, c.num_hidden_layers, c.hidden_size, c.intermediate_size,
                     c.num_attention_heads, c.num_key_value_heads, c.resolved_head_dim(), c.vocab_size,
                     c.tie_word_embeddings ? ", tied embeddings" : "");
}

// Records read, how the length policy changed them and which rule dropped what, then the selection.
std::string samples_text(const data::DataOptions& o, const data::Dataset& d) {
  return fmt::format("{} records ({} bad skipped); {} truncated and {} split at data.max_seq_len = {}; dropped: {} "
                     "pieces with fewer than data.min_tokens = {} tokens, {} without a supervised token; {} "
                     "usable, {} selected (data.num_samples = {}{})",
                     d.read.records, d.read.skipped, d.length.truncated, d.length.split, o.max_seq_len,
                     d.length.too_short, o.min_tokens, d.length.unsupervised, d.available, d.samples.size(),
                     o.num_samples, o.num_samples > 0 ? fmt::format(", select {}", o.select == data::Selection::random
                                                                                       ? "random"
                                                                                       : "first")
                                                      : " = all");
}

// Tokens over the whole run, visiting the samples in training's order, and per step on average.
std::string steps_text(const JobConfig& job, const data::Dataset& dataset, const train::TrainPlan& plan) {
  const auto& t = job.train;
  const data::SampleOrder order(plan.num_samples, job.data.seed, job.data.shuffle);
  int64_t tokens = 0, supervised = 0;
  for (int64_t step = 0; step < plan.steps; ++step)
    for (int64_t index : order.take(plan.data_position_at(step), plan.global_batch_size)) {
      tokens += dataset.samples[index].size();
      supervised += dataset.samples[index].num_supervised();
    }
  const double steps = static_cast<double>(std::max<int64_t>(1, plan.steps));
  return fmt::format("plan: {}; global batch {} = micro {} x accumulation {}; tokens {} ({} supervised); per step {:.0f} "
                     "tokens ({:.0f} supervised) on average",
                     plan.describe(), t.global_batch_size, t.micro_batch_size, t.accumulation_steps(), tokens,
                     supervised, tokens / steps, supervised / steps);
}

}  // namespace

train::MemoryPlanInput memory_plan_input(const JobConfig& job, const model::LlamaConfig& model, int64_t world_size,
                                         bool cuda) {
  const auto& t = job.train;
  train::MemoryPlanInput in;
  in.model = model;
  in.seq_len = job.data.max_seq_len;
  in.micro_batch = t.micro_batch_size;
  in.bf16 = t.precision == train::Precision::bf16 || (t.precision == train::Precision::automatic && cuda);
  in.sharding = t.sharding;
  in.offload_optimizer = t.offload_optimizer;
  in.activation_checkpointing = t.activation_checkpointing;
  in.world_size = world_size;
  in.cuda = cuda;
  return in;
}

std::string memory_plan_settings(const train::MemoryPlanInput& in) {
  const char* sharding = in.sharding == train::Sharding::full        ? "full"
                         : in.sharding == train::Sharding::optimizer ? "optimizer"
                                                                     : "none";
  return fmt::format("micro batch {} x {} tokens (data.max_seq_len), {}, sharding {}, offload {}, activation "
                     "checkpointing {}, {} rank(s)",
                     in.micro_batch, in.seq_len, in.bf16 ? "bf16" : "fp32", sharding,
                     in.offload_optimizer ? "optimizer" : "none", in.activation_checkpointing ? "on" : "off",
                     in.world_size);
}

std::vector<std::string> describe_job_plan(const JobPlanInput& in) {
  const JobConfig& job = in.job;
  std::vector<std::string> lines = {
      model_line(job, in.model),
      fmt::format("rope: {}; {}", model::describe_rope(in.model.rope),
                  model::describe_effective_rope(in.model.rope, in.model.resolved_head_dim())),
      fmt::format("data: {}: {}", job.data.path, samples_text(job.data, in.dataset)),
      steps_text(job, in.dataset, in.plan)};
  if (in.eval_dataset) {
    data::DataOptions eval = job.data;
    eval.num_samples = 0;
    lines.push_back(fmt::format("eval: held-out loss every {} steps and at the last on {}: {}", job.train.eval_every,
                                job.data.eval_path, samples_text(eval, *in.eval_dataset)));
  }
  const bool cuda = job.runtime.device == torch::kCUDA;
  const auto input = memory_plan_input(job, in.model, in.world_size, cuda);
  const auto memory = train::plan_memory(input);
  std::string peaks = fmt::format("device peak {} ({}), host peak {} ({})", gigabytes(memory.device_peak),
                                  memory.device_peak_phase, gigabytes(memory.host_peak), memory.host_peak_phase);
  if (!cuda) {  // the device is the host: what is live at once is device + host of one phase
    const auto worst = std::max_element(memory.phases.begin(), memory.phases.end(), [](const auto& a, const auto& b) {
      return a.device + a.host < b.device + b.host;
    });
    if (worst != memory.phases.end())
      peaks = fmt::format("peak {} ({}) in host memory (runtime.device cpu)", gigabytes(worst->device + worst->host),
                          worst->name);
  }
  lines.push_back(fmt::format("memory: per rank, as `ctxext plan` predicts it ({}): {}", memory_plan_settings(input),
                              peaks));
  return lines;
}

}  // namespace ctxext::recipes
