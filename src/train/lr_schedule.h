// Learning rate at an optimizer step: linear warmup, then constant / linear / cosine decay.
#pragma once
#include <cstdint>

#include "train/train_options.h"

namespace ctxext::train {

// step counts from 0 (the first optimizer step); steps is the run's total (train/train_plan.h).
// Warmup ramps lr*(step+1)/warmup_steps so the first step already learns; decay runs from the end
// of warmup towards lr*min_lr_ratio, reached at step `steps` (one past the last), so the last step
// still learns. Cosine with no warmup and min_lr_ratio 0 is lr*0.5*(1+cos(pi*step/steps)), Hugging
// Face's get_cosine_schedule_with_warmup (6 steps: 1, 0.93, 0.75, 0.5, 0.25, 0.07 x lr).
double learning_rate_at(const TrainOptions& options, int64_t steps, int64_t step);

}  // namespace ctxext::train
