// Learning rate at an optimizer step: linear warmup, then constant / linear / cosine decay.
#pragma once
#include <cstdint>

#include "train/train_options.h"

namespace ctxext {

// step counts from 0 (the first optimizer step). Warmup ramps lr*(step+1)/warmup_steps so the first
// step already learns; decay runs from the end of warmup to lr*min_lr_ratio at the last step.
double learning_rate_at(const TrainOptions& options, int64_t step);

}  // namespace ctxext
