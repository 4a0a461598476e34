// train.sharding: optimizer (ZeRO stage 2). One FlatShard over every parameter: rank r keeps only
// its shard's fp32 masters, summed fp32 gradient and AdamW moments; the model's weights and
// gradients stay whole on every rank. Each step:
//   every rank's gradients --reduce-scatter (buckets)--> this rank's summed gradient shard
//   global norm = sqrt(all-reduce(sum of squares of every shard)); clip; AdamW on the shard
//   shards rounded to the model dtype --all-gather (buckets)--> every parameter, on every rank.
// Checkpoints: one file per rank, zero-shard-<r>-of-<world>.safetensors (FlatShard's state); a
// resume with another world size copies the overlapping ranges of every saved shard.
// train.offload: optimizer: the shard lives on the host, and the step's last backward already sends
// the reduced gradient buckets there as their layers finish (FlatShard::reduce_in_backward): the
// micro-batches before it accumulate in the parameters' .grad on the device; the copy is made once.
#pragma once
#include <memory>

#include "train/flat_shard.h"
#include "train/weight_update.h"

namespace ctxext::train {

class ShardedAdamW : public WeightUpdate {
 public:
  // offload: masters, gradient shard and moments on the host (train.offload: optimizer).
  ShardedAdamW(const NamedTensors& model_params, dist::Communicator& comm, const AdamWSettings& settings,
               bool offload);

  void begin_micro_batch(bool last) override;
  double reduce_gradients() override;
  void step(double lr, double grad_norm, double max_norm) override;
  CheckpointFiles checkpoint_files() const override;
  void load(const std::filesystem::path& folder) override;

 private:
  dist::Communicator& comm_;
  std::unique_ptr<HostCopyQueue> to_host_;  // with offload
  FlatShard shard_;
};

// min(1, max_norm / (norm + 1e-6)), as torch's clip_grad_norm_; 1 when max_norm <= 0 (no clipping).
double clip_coefficient(double grad_norm, double max_norm);

}  // namespace ctxext::train
