#include "train/lr_schedule.h"

#include <algorithm>
#include <cmath>

namespace ctxext::train {

double learning_rate_at(const TrainOptions& o, int64_t steps, int64_t step) {
  if (step < o.warmup_steps) return o.lr * static_cast<double>(step + 1) / static_cast<double>(o.warmup_steps);
  if (o.schedule == LrSchedule::constant) return o.lr;
  const int64_t decay_steps = std::max<int64_t>(1, steps - o.warmup_steps);
  const double progress = std::clamp(static_cast<double>(step - o.warmup_steps) / decay_steps, 0.0, 1.0);
  const double floor = o.lr * o.min_lr_ratio;
  if (o.schedule == LrSchedule::linear) return floor + (o.lr - floor) * (1.0 - progress);
  return floor + (o.lr - floor) * 0.5 * (1.0 + std::cos(M_PI * progress));  // cosine
}

}  // namespace ctxext::train
