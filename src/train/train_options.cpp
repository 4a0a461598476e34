#include "train/train_options.h"

#include <fmt/format.h>

#include <limits>

namespace ctxext::train {

TrainOptions parse_train_options(const ConfigNode& node) {
  constexpr double kInf = std::numeric_limits<double>::infinity();
  TrainOptions o;
  // Absent or null (train.epochs=null on the command line): not given.
  if (node.get_optional<int64_t>("epochs")) o.epochs = node.get_int("epochs", o.epochs, 1, 1000000);
  if (node.get_optional<int64_t>("steps")) o.steps = node.get_int("steps", o.steps, 1, 100000000);
  o.drop_last = node.get<bool>("drop_last", o.drop_last);
  if (!o.drop_last)
    node.reject("drop_last", "only true is supported: an epoch's last partial batch would need micro-batches and "
                             "ranks of unequal size, which the trainer does not build (the paper drops it too)");
  o.lr = node.get<double>("lr", o.lr);
  if (!(o.lr > 0.0 && o.lr < 1.0)) node.reject("lr", "must be > 0 and < 1");
  o.weight_decay = node.get_number("weight_decay", o.weight_decay, 0.0, 1.0);
  o.beta1 = node.get_number("beta1", o.beta1, 0.0, 0.999999);
  o.beta2 = node.get_number("beta2", o.beta2, 0.0, 0.999999);
  o.eps = node.get<double>("eps", o.eps);
  if (!(o.eps > 0.0)) node.reject("eps", "must be > 0");
  const std::string schedule = node.get_choice("schedule", "constant", {"constant", "linear", "cosine"});
  o.schedule = schedule == "cosine"   ? LrSchedule::cosine
               : schedule == "linear" ? LrSchedule::linear
                                      : LrSchedule::constant;
  o.warmup_steps = node.get_int("warmup_steps", o.warmup_steps, 0, o.steps > 0 ? o.steps : 100000000);
  o.min_lr_ratio = node.get_number("min_lr_ratio", o.min_lr_ratio, 0.0, 1.0);
  o.micro_batch_size = node.get_int("micro_batch_size", o.micro_batch_size, 1, 1 << 20);
  o.global_batch_size = node.get_int("global_batch_size", o.global_batch_size, 1, 1 << 24);
  if (node.has("world_size"))
    node.reject("world_size", "is no longer a config key: the world size is the launcher's (torchrun "
                              "--nproc-per-node x --nnodes sets WORLD_SIZE); remove the key");
  if (o.global_batch_size % o.micro_batch_size != 0)
    node.reject("global_batch_size", fmt::format("must be a multiple of micro_batch_size ({})", o.micro_batch_size));
  const std::string sharding = node.get_choice("sharding", "none", {"none", "optimizer", "full"});
  o.sharding = sharding == "full" ? Sharding::full : sharding == "optimizer" ? Sharding::optimizer : Sharding::none;
  o.offload_optimizer = node.get_choice("offload", "none", {"none", "optimizer"}) == "optimizer";
  o.max_grad_norm = node.get_number("max_grad_norm", o.max_grad_norm, 0.0, kInf);
  const bool skip_non_finite = node.get_choice("nan_policy", "abort", {"abort", "skip"}) == "skip";
  o.nan_policy = skip_non_finite ? NanPolicy::skip : NanPolicy::abort;
  const std::string precision = node.get_choice("precision", "auto", {"auto", "fp32", "bf16"});
  o.precision = precision == "bf16" ? Precision::bf16 : precision == "fp32" ? Precision::fp32 : Precision::automatic;
  o.activation_checkpointing = node.get<bool>("activation_checkpointing", o.activation_checkpointing);
  o.eval_every = node.get_int("eval_every", o.eval_every, 0, 100000000);
  node.check_no_unknown_keys();
  if (o.epochs == 0 && o.steps == 0)
    fail("{}: missing required key '{}' or '{}' (one or the other: the steps are derived from the epochs)",
         node.where(""), node.key_path("epochs"), node.key_path("steps"));
  return o;
}

CheckpointOptions parse_checkpoint_options(const ConfigNode& node) {
  CheckpointOptions o;
  o.every_steps = node.get_int("every_steps", o.every_steps, 0, 100000000);
  o.keep_last = node.get_int("keep_last", o.keep_last, 1, 1000000);
  o.final = node.get<bool>("final", o.final);
  node.check_no_unknown_keys();
  return o;
}

}  // namespace ctxext::train
