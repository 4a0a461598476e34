#include "recipes/train_recipe.h"

#include <ATen/core/Generator.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <limits>
#include <sstream>
#include <tuple>

#include "core/fault_injection.h"
#include "core/log.h"
#include "core/progress.h"
#include "core/threads.h"
#include "data/batching.h"
#include "io/atomic_folder.h"
#include "io/safetensors.h"
#include "io/temp_orphans.h"
#include "model/hf_checkpoint.h"
#include "model/hf_fidelity_warning.h"
#include "model/llama_init.h"
#include "recipes/job_plan.h"
#include "recipes/preflight.h"
#include "recipes/resume_guard.h"
#include "recipes/training_record.h"
#include "train/alloc_counter.h"
#include "train/causal_lm_loss.h"
#include "train/gradient_accumulation.h"
#include "train/heldout_loss.h"
#include "train/lr_schedule.h"
#include "train/step_profiler.h"

namespace ctxext::recipes {

namespace fs = std::filesystem;

namespace {
// Positions per loss chunk: bounds the float32 logits to ~chunk x vocab.
constexpr int64_t kLossChunk = 1024;

// Ranks started with different resolved configs would train different things: refuse, naming the
// first rank that differs from rank 0 and each key with both values.
void check_same_config_on_every_rank(dist::Communicator& comm, const Config& config) {
  const auto texts = comm.all_gather_strings(config.to_yaml(), "config exchange");
  for (int r = 1; r < comm.world_size(); ++r) {
    if (texts[r] == texts[0]) continue;
    const auto values = [&](int rank) {
      return resolved_job_values(Config::parse(texts[rank], fmt::format("rank {}'s config", rank)));
    };
    std::vector<std::string> keys;
    for (const auto& change : config_changes(values(0), values(r)))
      keys.push_back(fmt::format("{} = {} on rank 0, {} on rank {}", change.key, change.before, change.after, r));
    if (keys.empty()) keys.push_back("the texts differ in a key no parser reads");
    fail("{}: the ranks were started with different configs ({}); start every rank with the same config and overrides",
         config.source_name(), fmt::join(keys, "; "));
  }
}
}  // namespace

TrainRecipe::TrainRecipe(const Config& config) : TrainRecipe(config, parse_job_config(config)) {}

TrainRecipe::TrainRecipe(Config config, JobConfig job)
    : config_(std::move(config)), job_(std::move(job)), output_dir_(job_.output_dir) {}

torch::Device TrainRecipe::device() const {
  if (job_.runtime.device != torch::kCUDA) return torch::Device(torch::kCPU);
  return torch::Device(torch::kCUDA, static_cast<c10::DeviceIndex>(comm_ ? comm_->local_rank() : 0));
}

void TrainRecipe::join_job() {
  const dist::LaunchEnv env = dist::read_launch_env();
  if (!env.distributed()) {
    comm_ = std::make_unique<dist::Communicator>();
    return;
  }
  const auto backend = job_.runtime.device == torch::kCUDA ? dist::Backend::nccl : dist::Backend::gloo;
  log::set_rank(env.rank, env.world_size);
  comm_ = std::make_unique<dist::Communicator>(env, backend, std::chrono::seconds(job_.runtime.dist_timeout_s));
  log::info("joined {} ranks ({}, store {}{}; this is rank {}, local rank {})", env.world_size,
            comm_->backend_name(), env.store_address(), env.agent_store ? " served by torchrun's agent" : "", env.rank,
            env.local_rank);
  check_same_config_on_every_rank(*comm_, config_);
}

void TrainRecipe::setup() {
  preflight_check(job_, config_.source_name());  // before the weights load
  join_job();
  configure_threads(job_.runtime.threads);

  job_.train.world_size = comm_->world_size();
  const int64_t per_step = job_.train.micro_batch_size * job_.train.world_size;
  if (job_.train.global_batch_size % per_step != 0)
    fail("{}: train.global_batch_size {} is not a multiple of train.micro_batch_size {} x world size {} (from the "
         "launcher) = {}", config_.source_name(), job_.train.global_batch_size, job_.train.micro_batch_size,
         job_.train.world_size, per_step);

  // Data before the weights (and before anything is written): a bad record, or a length policy that
  // leaves no sample (named by rule), fails here. The tokenizer (data.tokenizer, else the model
  // folder's) was checked by preflight_check.
  const auto tokenizer = data::Tokenizer::load(job_.tokenizer_path());
  dataset_ = data::load_dataset(job_.data, tokenizer);
  if (job_.train.eval_every > 0) eval_dataset_ = data::load_dataset(data::eval_data_options(job_.data), tokenizer);
  order_ = std::make_unique<data::SampleOrder>(static_cast<int64_t>(dataset_.samples.size()), job_.data.seed, job_.data.shuffle);
  // Steps: from the epochs (or as given) over the samples the length policy kept.
  plan_ = train::resolve_steps(job_.train, static_cast<int64_t>(dataset_.samples.size()));

  std::string refused;  // rank 0's reason to stop, told to every rank so none waits for it
  if (comm_->is_main()) {  // one writer per output_dir; then the temporaries of killed writes go
    try {
      run_lock_ = std::make_unique<io::RunLock>(output_dir_);
      io::remove_orphaned_temporaries(output_dir_);
      io::remove_orphaned_temporaries(output_dir_ / "checkpoints");
    } catch (const Error& e) {
      refused = e.what();
    }
  }
  refused = comm_->broadcast_string(refused, 0, "run lock result");
  if (!refused.empty()) fail("{}{}", comm_->is_main() ? "" : "rank 0 stopped the job: ", refused);
  torch::manual_seed(job_.runtime.seed);

  // Model: job_.rope was parsed over the checkpoint's own RoPE settings (model_rope_defaults).
  const train::Precision precision = job_.train.precision;
  const bool bf16 = precision == train::Precision::bf16 || (precision == train::Precision::automatic && device().is_cuda());
  const torch::Dtype dtype = bf16 ? torch::kBFloat16 : torch::kFloat32;
  if (!job_.model.path.empty()) {
    model_ = model::load_hf_model(job_.model.path, torch::kFloat32,
                                  job_.rope_given ? std::optional<rope::RopeOptions>(job_.rope) : std::nullopt);
    model_config_ = model_->config();
  } else {
    model_config_ = job_.model.preset_config;
    if (job_.rope_given) model_config_.rope = job_.rope;
    model_ = model::make_random_llama(model_config_, static_cast<uint64_t>(job_.runtime.seed));
  }
  model_->to(device(), dtype);
  model_->model->set_activation_checkpointing(job_.train.activation_checkpointing);
  if (comm_->is_main())  // the resolved plan, as ctxext validate prints it
    for (const auto& line : describe_job_plan({job_, model_config_, dataset_, plan_,
                                               job_.train.eval_every > 0 ? &eval_dataset_ : nullptr,
                                               comm_->world_size()}))
      log::info("{}", line);

  // AdamW over fp32 masters (the parameters themselves in fp32 training), whole or sharded over ranks.
  for (const auto& item : model_->named_parameters()) params_.emplace_back(item.key(), item.value());
  const auto& t = job_.train;
  update_ = train::make_weight_update(t.sharding, t.offload_optimizer, *model_, *comm_,
                                      train::AdamWSettings{t.lr, t.beta1, t.beta2, t.eps, t.weight_decay});

  fs::create_directories(output_dir_);
  const std::optional<fs::path> resume_folder = train::checkpoint_to_resume(output_dir_, job_.resume);
  // Only under the config it was trained with, and never back; a finished run is left as it is.
  if (resume_folder && check_resume(*resume_folder, config_, job_, plan_.steps) == ResumeDecision::already_complete) {
    complete_ = true;
    return;
  }
  if (resume_folder) resume_from(*resume_folder);
  if (state_.data_position != plan_.data_position_at(state_.step))
    fail("{}: resumed at step {} and data position {}, but this run puts step {} at position {} ({}): the data or "
         "the batch changed since that checkpoint was written", resume_folder->string(), state_.step,
         state_.data_position, state_.step, plan_.data_position_at(state_.step), plan_.describe());
  if (comm_->is_main()) metrics_ = std::make_unique<train::MetricsLog>(output_dir_ / "metrics.jsonl", state_.step);
  log::info("training {}; micro batch {} x accumulation {}; output {}", plan_.describe(),
            job_.train.micro_batch_size, job_.train.accumulation_steps(), output_dir_.string());
}

void TrainRecipe::resume_from(const fs::path& folder) {
  const train::Checkpoint checkpoint = train::load_checkpoint(folder);
  update_->load(folder);
  at::Generator generator = at::detail::getDefaultCPUGenerator();  // a handle to the global generator
  generator.set_state(checkpoint.rng_state);
  state_ = checkpoint.state;
  log::info("resumed from {} (step {}, data position {})", folder.string(), state_.step, state_.data_position);
}

bool TrainRecipe::train_step(train::StepMetrics& metrics) {
  const auto& t = job_.train;
  const int64_t step = state_.step;
  const double lr = train::learning_rate_at(t, plan_.steps, step);

  // This rank's consecutive part of the global batch, in micro-batches: over all ranks, the same
  // samples one process would take for this step.
  const std::vector<int64_t> indices = order_->take(state_.data_position, t.global_batch_size);
  const int64_t per_rank = t.global_batch_size / t.world_size;
  const auto mine = indices.begin() + comm_->rank() * per_rank;
  std::vector<data::Batch> micro_batches;
  for (int64_t micro = 0; micro < t.accumulation_steps(); ++micro)
    micro_batches.push_back(data::make_batch(dataset_.samples,
                                             std::vector<int64_t>(mine + micro * t.micro_batch_size,
                                                                  mine + (micro + 1) * t.micro_batch_size)));
  // Every rank divides its loss by the supervised targets of the WHOLE global batch, so the
  // gradient summed over ranks does not depend on how the tokens fell on them.
  int64_t supervised = 0;
  for (const auto& batch : micro_batches) supervised += train::count_supervised_targets(batch.labels);
  supervised = comm_->all_reduce_sum(supervised, "supervised-token count all-reduce");
  for (auto& [name, p] : params_) p.mutable_grad() = torch::Tensor();
  const train::AccumulatedStep accumulated =
      train::accumulate_gradients(*model_, micro_batches, device(), kLossChunk, supervised,
                                  {[this](bool last) { update_->begin_micro_batch(last); }, [this] { update_->end_micro_batch(); }});
  double loss_total = comm_->all_reduce_sum(accumulated.loss, "loss all-reduce");
  if (fault_requested(fmt::format("nan-loss-{}", step + 1))) loss_total = std::nan("");
  const double grad_norm = update_->reduce_gradients();

  metrics.step = step + 1;
  metrics.loss = loss_total;
  metrics.lr = lr;
  metrics.grad_norm = grad_norm;
  metrics.tokens = supervised;
  state_.data_position = plan_.data_position_at(step + 1);  // an epoch's partial batch is skipped
  state_.step += 1;
  if (!std::isfinite(loss_total) || !std::isfinite(grad_norm)) {
    if (t.nan_policy == train::NanPolicy::abort) {
      const auto last = train::find_latest_checkpoint(output_dir_);
      fail("step {}: non-finite {} ({}); stopped (train.nan_policy: abort); last good checkpoint: {}", step + 1,
           std::isfinite(loss_total) ? "gradient norm" : "loss", std::isfinite(loss_total) ? grad_norm : loss_total,
           last ? last->string() : "none");
    }
    state_.skipped_steps += 1;
    log::warn("step {}: non-finite loss or gradient, step skipped (train.nan_policy: skip; {} skipped so far)", step + 1,
              state_.skipped_steps);
    return false;
  }
  update_->step(lr, grad_norm, t.max_grad_norm);
  state_.tokens_seen += supervised;
  return true;
}

void TrainRecipe::train() {
  if (complete_) return;
  std::optional<Progress> progress;  // rank 0 reports for the whole job
  if (comm_->is_main()) progress.emplace("train", plan_.steps);
  if (progress) progress->update(state_.step);
  // --profile-steps: from the second step this process runs (the first when it runs only one).
  train::StepProfiler profiler(device().is_cuda());
  const int64_t profile_from = state_.step + (plan_.steps - state_.step > 1 ? 1 : 0);
  int64_t profiled = 0;
  std::chrono::steady_clock::time_point profile_start;
  while (state_.step < plan_.steps) {
    if (profile_steps_ > 0 && state_.step == profile_from) {
      profile_start = std::chrono::steady_clock::now();
      profiler.start();
    }
    const auto start = std::chrono::steady_clock::now();
    train::StepMetrics metrics;
    metrics.processed_tokens = train::count_tokens(dataset_.samples, order_->take(state_.data_position, job_.train.global_batch_size));
    metrics.skipped = !train_step(metrics);
    metrics.set_step_seconds(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
    const int64_t eval_every = job_.train.eval_every;
    if (eval_every > 0 && (state_.step % eval_every == 0 || state_.step == plan_.steps))
      std::tie(metrics.eval_loss, metrics.eval_tokens) = heldout_eval();
    metrics.peak_mem_mb = train::peak_memory_mb(device().is_cuda());
    if (train::alloc_counter::enabled()) metrics.peak_alloc_mb = train::alloc_counter::peak_bytes() / (1024.0 * 1024.0);
    if (metrics_) metrics_->append(metrics);
    if (progress)
      progress->update(state_.step, fmt::format("loss {:.4f} lr {:.2e} |g| {:.3f} {:.0f} tok/s{}", metrics.loss,
                                                metrics.lr, metrics.grad_norm, metrics.tokens_per_s,
                                                metrics.eval_loss ? fmt::format(" eval {:.4f}", *metrics.eval_loss)
                                                                  : std::string()));
    if (profiler.running() && ++profiled == profile_steps_)
      write_profile(profiler, profiled, std::chrono::steady_clock::now() - profile_start);
    fault_point(fmt::format("after-step-{}", state_.step));
    const auto& every = job_.checkpoint.every_steps;
    if (every > 0 && state_.step % every == 0 && state_.step < plan_.steps) save_checkpoint_now();
  }
  if (progress) progress->finish();
  if (profiler.running()) {
    log::warn("--profile-steps {}: the run had only {} step(s) left to profile", profile_steps_, profiled);
    write_profile(profiler, profiled, std::chrono::steady_clock::now() - profile_start);
  }
}

void TrainRecipe::write_profile(train::StepProfiler& profiler, int64_t steps,
                                std::chrono::steady_clock::duration wall) {
  const auto stem = output_dir_ / fmt::format("profile-rank{}", comm_->rank());
  const auto trace = fs::path(stem.string() + ".trace.json");
  const auto profile = profiler.stop(trace);
  const double wall_ms = std::chrono::duration<double, std::milli>(wall).count();
  const auto table = train::format_profile(profile, steps, wall_ms, /*rows=*/25);
  io::write_file_atomic(fs::path(stem.string() + ".txt"),
                        train::format_profile(profile, steps, wall_ms, /*rows=*/std::numeric_limits<size_t>::max()));
  if (!comm_->is_main()) return;
  std::istringstream lines(table);
  for (std::string line; std::getline(lines, line);) log::info("{}", line);
  log::info("profile: every op in {}.txt, the timeline in {} (chrome://tracing or ui.perfetto.dev); the "
            "profiler's own overhead is in these steps' tok/s",
            stem.string(), trace.string());
}

std::pair<double, int64_t> TrainRecipe::heldout_eval() {
  // ZeRO-3 keeps the weights sharded: make every layer whole on every rank first, so the ranks score
  // unequal shares without a collective inside the forward (the next step's hooks release them again).
  update_->materialize_weights();
  const auto world = static_cast<int64_t>(comm_->world_size());
  std::vector<int64_t> mine;  // samples rank, rank + world, ...
  for (auto i = static_cast<int64_t>(comm_->rank()); i < static_cast<int64_t>(eval_dataset_.samples.size()); i += world)
    mine.push_back(i);
  const auto sums = train::heldout_loss_sums(*model_, eval_dataset_.samples, mine, job_.train.micro_batch_size, device(),
                                             kLossChunk);
  const double nll = comm_->all_reduce_sum(sums.nll, "held-out loss all-reduce");
  const int64_t targets = comm_->all_reduce_sum(sums.targets, "held-out token count all-reduce");
  return {nll / static_cast<double>(std::max<int64_t>(1, targets)), targets};
}

void TrainRecipe::save_checkpoint_now() {
  // Every rank writes its files into rank 0's temporary folder; rank 0 commits it only after the
  // barrier that follows every rank's fsynced writes, so no partial step folder is ever complete.
  const auto write_mine = [this](const fs::path& folder) {
    for (const auto& [file, tensors] : update_->checkpoint_files()) io::write_safetensors(folder / file, tensors);
  };
  if (comm_->is_main()) {
    const auto rng = at::detail::getDefaultCPUGenerator().get_state();
    train::save_checkpoint(output_dir_, state_, rng, config_.to_yaml(), job_.checkpoint.keep_last, [&](const fs::path& folder) {
      write_mine(folder);
      comm_->broadcast_string(folder.string(), 0, "checkpoint folder broadcast");
      comm_->barrier("checkpoint shards written");
    });
  } else {
    write_mine(comm_->broadcast_string("", 0, "checkpoint folder broadcast"));
    comm_->barrier("checkpoint shards written");
  }
  comm_->barrier("checkpoint committed");
}

void TrainRecipe::save() {
  if (complete_) return;
  // A run resumed (resume=auto) from its final checkpoint has it already: write it only once. After
  // resume=none a step-N folder is the old run's, which this run's final checkpoint replaces.
  // Rank 0 decides for the job, so every rank takes part in the same checkpoint or in none.
  // checkpoint.final: false (the same on every rank) skips it: only the HF export is written.
  const auto latest = train::find_latest_checkpoint(output_dir_);
  const bool written =
      job_.resume == "auto" && latest && latest->filename() == fmt::format("step-{}", state_.step);
  if (job_.checkpoint.final &&
      comm_->broadcast_string(written ? "written" : "missing", 0, "final checkpoint decision") == "missing")
    save_checkpoint_now();
  if (!job_.export_options.enabled) return;
  update_->materialize_weights();  // every rank takes part (ZeRO-3 gathers); rank 0 writes
  if (!comm_->is_main()) return;
  model::ExportOptions options;
  options.tokenizer_source = job_.model.path;
  options.max_shard_bytes = job_.export_options.max_shard_bytes;
  options.training_record = training_record_json(config_, job_, state_.step, state_.skipped_steps,
                                                 logged_loss(output_dir_ / "metrics.jsonl", state_.step));
  model::export_hf_checkpoint(model::model_tensors(*model_), model_config_, output_dir_ / "export", options);
  log::info("exported HF folder: {}", (output_dir_ / "export").string());
  model::warn_if_hf_frequencies_only(model_config_);
}

void TrainRecipe::cleanup() {
  update_.reset();
  params_.clear();
  model_ = nullptr;
  dataset_ = {};
  eval_dataset_ = {};
}

}  // namespace ctxext::recipes
