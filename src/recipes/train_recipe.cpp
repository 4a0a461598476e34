#include "recipes/train_recipe.h"

#include <ATen/core/Generator.h>
#include <torch/nn/utils/clip_grad.h>

#include <chrono>
#include <cmath>

#include "core/fault_injection.h"
#include "core/log.h"
#include "core/progress.h"
#include "core/threads.h"
#include "data/batching.h"
#include "model/hf_checkpoint.h"
#include "model/hf_config.h"
#include "model/llama_init.h"
#include "train/gradient_accumulation.h"
#include "train/lr_schedule.h"
#include "train/optimizer_state.h"

namespace ctxext {

namespace fs = std::filesystem;

namespace {
// Positions per loss chunk: bounds the float32 logits to ~chunk x vocab.
constexpr int64_t kLossChunk = 1024;
}  // namespace

TrainRecipe::TrainRecipe(const Config& config) : config_(config) {
  job_ = parse_job_config(config_);
  output_dir_ = job_.output_dir;
}

torch::Device TrainRecipe::device() const {
  return job_.runtime.device == "cuda" ? torch::Device(torch::kCUDA) : torch::Device(torch::kCPU);
}

void TrainRecipe::setup() {
  configure_threads(job_.runtime.threads);
  if (device().is_cuda() && !torch::cuda::is_available())
    fail("{}: runtime.device = cuda but no CUDA device is available", config_.source_name());
  torch::manual_seed(job_.runtime.seed);

  // Model: the checkpoint's own RoPE settings are the defaults the rope: section overrides.
  const bool bf16 = job_.train.precision == "bf16" || (job_.train.precision == "auto" && device().is_cuda());
  const torch::Dtype dtype = bf16 ? torch::kBFloat16 : torch::kFloat32;
  if (!job_.model.path.empty()) {
    const LlamaConfig base = read_hf_config(fs::path(job_.model.path) / "config.json");
    job_ = parse_job_config(config_, base.rope);
    model_ = load_hf_model(job_.model.path, torch::kFloat32,
                           job_.rope_given ? std::optional<RopeOptions>(job_.rope) : std::nullopt);
    model_config_ = model_->config();
  } else {
    model_config_ = job_.model.preset_config;
    job_ = parse_job_config(config_, model_config_.rope);
    if (job_.rope_given) model_config_.rope = job_.rope;
    model_ = make_random_llama(model_config_, static_cast<uint64_t>(job_.runtime.seed));
  }
  model_->to(device(), dtype);
  model_->model->set_activation_checkpointing(job_.train.activation_checkpointing);
  log::info("model: {} parameters, {} layers, {}; rope {} (factor {}, theta {})", model_config_.num_parameters(),
            model_config_.num_hidden_layers, bf16 ? "bf16 with fp32 master weights" : "fp32", model_config_.rope.type,
            model_config_.rope.factor, model_config_.rope.effective_theta());

  // Data: the tokenizer of the data section, else the model folder's.
  const std::string tokenizer_path = job_.tokenizer_path();
  if (tokenizer_path.empty()) fail("{}: data.tokenizer is required when the model is a preset", config_.source_name());
  const auto tokenizer = data::Tokenizer::load(tokenizer_path);
  if (tokenizer.vocab_size() > model_config_.vocab_size)
    fail("{}: tokenizer has {} tokens but the model's vocab_size is {}", tokenizer_path, tokenizer.vocab_size(),
         model_config_.vocab_size);
  dataset_ = data::load_dataset(job_.data, tokenizer);
  if (dataset_.samples.empty()) fail("{}: no sample left after the length policy", job_.data.path);
  order_ = std::make_unique<data::SampleOrder>(static_cast<int64_t>(dataset_.samples.size()), job_.data.seed, job_.data.shuffle);
  // Steps: from the epochs (or as given) over the samples the length policy kept.
  plan_ = resolve_steps(job_.train, static_cast<int64_t>(dataset_.samples.size()));

  // Optimizer over fp32 masters (the parameters themselves in fp32 training).
  for (const auto& item : model_->named_parameters()) params_.emplace_back(item.key(), item.value());
  masters_ = std::make_unique<MasterWeights>(params_);
  optimizer_ = std::make_unique<torch::optim::AdamW>(
      masters_->master_tensors(), torch::optim::AdamWOptions(job_.train.lr)
                                      .betas({job_.train.beta1, job_.train.beta2})
                                      .eps(job_.train.eps)
                                      .weight_decay(job_.train.weight_decay));

  fs::create_directories(output_dir_);
  std::optional<fs::path> resume_folder;
  if (job_.resume == "auto") resume_folder = find_latest_checkpoint(output_dir_);
  else if (job_.resume != "none") resume_folder = fs::path(job_.resume);
  if (resume_folder) resume_from(*resume_folder);
  if (state_.data_position != plan_.data_position_at(state_.step))
    fail("{}: resumed at step {} and data position {}, but this run puts step {} at position {} ({}): the data or "
         "the batch changed since that checkpoint was written", resume_folder->string(), state_.step,
         state_.data_position, state_.step, plan_.data_position_at(state_.step), plan_.describe());
  metrics_ = std::make_unique<MetricsLog>(output_dir_ / "metrics.jsonl", state_.step);
  log::info("training {}; micro batch {} x accumulation {}; output {}", plan_.describe(),
            job_.train.micro_batch_size, job_.train.accumulation_steps(), output_dir_.string());
}

void TrainRecipe::resume_from(const fs::path& folder) {
  const Checkpoint checkpoint = load_checkpoint(folder);
  const std::string origin = (folder / "model.safetensors").string();
  {
    torch::NoGradGuard no_grad;
    for (auto& [name, master] : masters_->masters()) {
      const auto it = checkpoint.model.find(name);
      if (it == checkpoint.model.end()) fail("{}: missing tensor '{}'", origin, name);
      if (it->second.sizes() != master.sizes()) fail("{}: tensor '{}' has the wrong shape", origin, name);
      master.copy_(it->second);
    }
  }
  masters_->masters_to_model();
  load_adamw_state(*optimizer_, masters_->masters(), checkpoint.optimizer, (folder / "optimizer.safetensors").string());
  at::Generator generator = at::detail::getDefaultCPUGenerator();  // a handle to the global generator
  generator.set_state(checkpoint.rng_state);
  state_ = checkpoint.state;
  log::info("resumed from {} (step {}, data position {})", folder.string(), state_.step, state_.data_position);
}

bool TrainRecipe::train_step(StepMetrics& metrics) {
  const auto& t = job_.train;
  const int64_t step = state_.step;
  const double lr = learning_rate_at(t, plan_.steps, step);
  for (auto& group : optimizer_->param_groups()) group.options().set_lr(lr);

  const std::vector<int64_t> indices = order_->take(state_.data_position, t.global_batch_size);
  std::vector<data::Batch> micro_batches;
  for (int64_t micro = 0; micro < t.accumulation_steps(); ++micro)
    micro_batches.push_back(data::make_batch(dataset_.samples,
                                             std::vector<int64_t>(indices.begin() + micro * t.micro_batch_size,
                                                                  indices.begin() + (micro + 1) * t.micro_batch_size)));
  for (auto& [name, p] : params_) p.mutable_grad() = torch::Tensor();
  const AccumulatedStep accumulated = accumulate_gradients(*model_, micro_batches, device(), kLossChunk);
  double loss_total = accumulated.loss;
  if (fault_requested(fmt::format("nan-loss-{}", step + 1))) loss_total = std::nan("");
  const int64_t supervised = accumulated.targets;

  masters_->grads_to_masters();
  const double max_norm = t.max_grad_norm > 0 ? t.max_grad_norm : std::numeric_limits<double>::infinity();
  const double grad_norm = torch::nn::utils::clip_grad_norm_(masters_->master_tensors(), max_norm);

  metrics.step = step + 1;
  metrics.loss = loss_total;
  metrics.lr = lr;
  metrics.grad_norm = grad_norm;
  metrics.tokens = supervised;
  state_.data_position = plan_.data_position_at(step + 1);  // an epoch's partial batch is skipped
  state_.step += 1;
  if (!std::isfinite(loss_total) || !std::isfinite(grad_norm)) {
    if (t.nan_policy == "abort") {
      const auto last = find_latest_checkpoint(output_dir_);
      fail("step {}: non-finite {} ({}); stopped (train.nan_policy: abort); last good checkpoint: {}", step + 1,
           std::isfinite(loss_total) ? "gradient norm" : "loss", std::isfinite(loss_total) ? grad_norm : loss_total,
           last ? last->string() : "none");
    }
    state_.skipped_steps += 1;
    log::warn("step {}: non-finite loss or gradient, step skipped (train.nan_policy: skip; {} skipped so far)", step + 1,
              state_.skipped_steps);
    return false;
  }
  optimizer_->step();
  masters_->masters_to_model();
  state_.tokens_seen += supervised;
  return true;
}

void TrainRecipe::train() {
  Progress progress("train", plan_.steps);
  progress.update(state_.step);
  while (state_.step < plan_.steps) {
    const auto start = std::chrono::steady_clock::now();
    StepMetrics metrics;
    metrics.skipped = !train_step(metrics);
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    metrics.tokens_per_s = metrics.tokens / std::max(seconds, 1e-9);
    metrics.peak_mem_mb = peak_memory_mb(device().is_cuda());
    metrics_->append(metrics);
    progress.update(state_.step, fmt::format("loss {:.4f} lr {:.2e} |g| {:.3f} {:.0f} tok/s", metrics.loss, metrics.lr,
                                             metrics.grad_norm, metrics.tokens_per_s));
    fault_point(fmt::format("after-step-{}", state_.step));
    const auto& every = job_.checkpoint.every_steps;
    if (every > 0 && state_.step % every == 0 && state_.step < plan_.steps) save_checkpoint_now();
  }
  progress.finish();
}

void TrainRecipe::save_checkpoint_now() {
  std::map<std::string, torch::Tensor> weights;
  for (const auto& [name, master] : masters_->masters()) weights[name] = master.detach().to(torch::kCPU);
  std::map<std::string, torch::Tensor> optimizer_state;
  for (const auto& [name, tensor] : adamw_state_tensors(*optimizer_, masters_->masters()))
    optimizer_state[name] = tensor.to(torch::kCPU);
  const auto rng = at::detail::getDefaultCPUGenerator().get_state();
  save_checkpoint(output_dir_, state_, weights, optimizer_state, rng, config_.to_yaml(), job_.checkpoint.keep_last);
}

void TrainRecipe::save() {
  // A resumed run that was already complete has its final checkpoint: write it only once.
  const auto latest = find_latest_checkpoint(output_dir_);
  if (!latest || latest->filename() != fmt::format("step-{}", state_.step)) save_checkpoint_now();
  if (!job_.export_options.enabled) return;
  ExportOptions options;
  options.tokenizer_source = job_.model.path;
  options.max_shard_bytes = job_.export_options.max_shard_bytes;
  export_hf_checkpoint(model_tensors(*model_), model_config_, output_dir_ / "export", options);
  log::info("exported HF folder: {}", (output_dir_ / "export").string());
}

void TrainRecipe::cleanup() {
  optimizer_.reset();
  masters_.reset();
  params_.clear();
  model_ = nullptr;
  dataset_ = {};
}

}  // namespace ctxext
