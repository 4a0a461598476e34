// train.sharding: none. Plain data parallel: every rank holds the whole fp32 master copy and AdamW
// state; after backward the fp32 gradients are summed over ranks in flat buckets of at most
// kBucketBytes (one all-reduce each, DDP's default size). With one process there is no
// communication and the arithmetic is exactly the single-process trainer's.
#pragma once
#include <torch/optim/adamw.h>

#include "train/master_weights.h"
#include "train/weight_update.h"

namespace ctxext {

class ReplicatedAdamW : public WeightUpdate {
 public:
  static constexpr int64_t kBucketBytes = int64_t(25) << 20;

  ReplicatedAdamW(const NamedTensors& model_params, dist::Communicator& comm, const AdamWSettings& settings);

  double reduce_gradients() override;
  void step(double lr, double grad_norm, double max_norm) override;
  CheckpointFiles checkpoint_files() const override;  // model + optimizer safetensors, from rank 0
  void load(const std::filesystem::path& folder) override;

 private:
  void all_reduce_bucketed();

  dist::Communicator& comm_;
  MasterWeights masters_;
  torch::optim::AdamW optimizer_;
};

}  // namespace ctxext
