// The YAML `train:` and `checkpoint:` sections: optimizer, schedule, batch arithmetic, precision,
// failure policy, checkpoint cadence. The run's length is given as epochs or as steps (one or the
// other, or both agreeing); the number of steps is resolved once the data is loaded
// (train/train_plan.h), so these options keep what the config says.
#pragma once
#include <cstdint>
#include <string>

#include "core/config.h"

namespace ctxext::train {

// train.sharding: none = replicas (plain data parallel); optimizer = ZeRO-2 (masters, moments and
// gradients split across ranks); full = ZeRO-3 (the weights too). train/weight_update.h.
enum class Sharding { none, optimizer, full };
enum class LrSchedule { constant, linear, cosine };  // after warmup
enum class NanPolicy { abort, skip };                // what a non-finite loss or gradient does
enum class Precision { automatic, fp32, bf16 };      // train.precision: auto = fp32 on CPU, bf16 on CUDA

struct TrainOptions {
  int64_t epochs = 0;                // passes over the samples; 0: not given
  int64_t steps = 0;                 // optimizer steps; 0: not given (derived from epochs)
  bool drop_last = true;             // an epoch's last partial global batch is skipped
  double lr = 2e-5;
  double weight_decay = 0.0;         // decoupled (AdamW)
  double beta1 = 0.9;
  double beta2 = 0.95;
  double eps = 1e-8;
  LrSchedule schedule = LrSchedule::constant;
  int64_t warmup_steps = 0;
  double min_lr_ratio = 0.0;         // linear/cosine decay ends at lr * min_lr_ratio
  int64_t micro_batch_size = 1;
  int64_t global_batch_size = 1;     // = micro_batch_size * accumulation * world_size
  int64_t world_size = 1;            // data-parallel ranks: not a config key, the launcher's WORLD_SIZE
  Sharding sharding = Sharding::none;  // what is split across ranks (train/weight_update.h)
  bool offload_optimizer = false;    // train.offload: optimizer keeps masters + AdamW state in host memory
  double max_grad_norm = 1.0;        // 0 disables clipping
  NanPolicy nan_policy = NanPolicy::abort;
  Precision precision = Precision::automatic;
  bool activation_checkpointing = false;
  int64_t eval_every = 0;            // held-out eval loss (data.eval_path) every N steps and at the last; 0: off

  int64_t accumulation_steps() const { return global_batch_size / (micro_batch_size * world_size); }
};

struct CheckpointOptions {
  int64_t every_steps = 0;  // 0: only the final step
  int64_t keep_last = 2;
  bool final = true;        // an optimizer checkpoint at the last step (the HF export is written either way)
};

TrainOptions parse_train_options(const ConfigNode& node);
CheckpointOptions parse_checkpoint_options(const ConfigNode& node);

}  // namespace ctxext::train
