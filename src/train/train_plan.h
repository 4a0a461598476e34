// How many optimizer steps a run takes and where each step's batch starts in the sample order.
// Resolved once the data is loaded (the number of samples is known only after the length policy):
//   steps_per_epoch = floor(num_samples / global_batch_size)    (drop_last: the partial batch is dropped)
//   steps           = epochs x steps_per_epoch, or train.steps as given (one or the other, or both agreeing)
// Every epoch starts at its own boundary of data::SampleOrder's stream (position epoch x num_samples),
// so the num_samples mod global_batch_size samples left at the end of an epoch are skipped, never
// mixed into the next epoch's first batch. The paper: 100 samples x 2 epochs at batch 32 = 6 steps.
#pragma once
#include <cstdint>
#include <string>

#include "train/train_options.h"

namespace ctxext::train {

struct TrainPlan {
  int64_t num_samples = 0;        // after the length policy and selection
  int64_t global_batch_size = 0;
  int64_t steps_per_epoch = 0;
  int64_t epochs = 0;             // as configured, or the epochs `steps` reaches into (rounded up)
  int64_t steps = 0;
  int64_t dropped_per_epoch = 0;  // samples at the end of each epoch no step reads

  // The data position (samples of the SampleOrder stream before it) where step `step`'s global
  // batch starts; step counts from 0, and data_position_at(steps) is where a longer run would go on.
  int64_t data_position_at(int64_t step) const;
  // "6 steps = 2 epochs x 3 steps of global batch 32 over 100 samples (4 dropped per epoch)"
  std::string describe() const;
};

// Fails, naming the keys and values, when the samples do not fill one global batch, when epochs and
// steps are both given and disagree, or when warmup_steps exceeds the steps.
TrainPlan resolve_steps(const TrainOptions& options, int64_t num_samples);

}  // namespace ctxext::train
