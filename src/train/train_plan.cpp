#include "train/train_plan.h"

#include <fmt/format.h>

#include "core/error.h"

namespace ctxext::train {

int64_t TrainPlan::data_position_at(int64_t step) const {
  return (step / steps_per_epoch) * num_samples + (step % steps_per_epoch) * global_batch_size;
}

std::string TrainPlan::describe() const {
  const std::string dropped = dropped_per_epoch > 0 ? fmt::format(" ({} dropped per epoch)", dropped_per_epoch) : "";
  if (steps == epochs * steps_per_epoch)
    return fmt::format("{} steps = {} epochs x {} steps of global batch {} over {} samples{}", steps, epochs,
                       steps_per_epoch, global_batch_size, num_samples, dropped);
  return fmt::format("{} steps of global batch {} over {} samples, {} steps per epoch{}: {} epochs, the last one partial",
                     steps, global_batch_size, num_samples, steps_per_epoch, dropped, epochs);
}

TrainPlan resolve_steps(const TrainOptions& options, int64_t num_samples) {
  TrainPlan plan;
  plan.num_samples = num_samples;
  plan.global_batch_size = options.global_batch_size;
  plan.steps_per_epoch = num_samples / options.global_batch_size;
  plan.dropped_per_epoch = num_samples % options.global_batch_size;
  if (plan.steps_per_epoch == 0)
    fail("train.global_batch_size = {} but the data has {} samples after the length policy and selection: not one "
         "full global batch (the last partial batch of an epoch is dropped); lower the batch or give more samples",
         options.global_batch_size, num_samples);
  const int64_t from_epochs = options.epochs * plan.steps_per_epoch;
  if (options.epochs > 0 && options.steps > 0 && options.steps != from_epochs)
    fail("train.epochs = {} and train.steps = {} disagree: {} epochs of floor({} samples / global batch {}) = {} steps "
         "each make {} steps; give one or the other (e.g. train.epochs=null on the command line)",
         options.epochs, options.steps, options.epochs, num_samples, options.global_batch_size,
         plan.steps_per_epoch, from_epochs);
  plan.steps = options.steps > 0 ? options.steps : from_epochs;
  plan.epochs = options.epochs > 0 ? options.epochs : (plan.steps + plan.steps_per_epoch - 1) / plan.steps_per_epoch;
  if (options.warmup_steps > plan.steps)
    fail("train.warmup_steps = {} exceeds the {} steps of the run ({})", options.warmup_steps, plan.steps,
         plan.describe());
  return plan;
}

}  // namespace ctxext::train
