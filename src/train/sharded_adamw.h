// train.sharding: optimizer (ZeRO stage 2). The parameters are viewed as one flat vector
// (dist::FlatLayout); rank r owns one contiguous shard of it and keeps only that shard's fp32
// masters and AdamW moments (12 bytes per parameter / world size instead of 12), plus the summed
// fp32 gradient of its shard (4 / world). Each step, in buckets of at most kBucketBytes:
//   gradients of every rank's piece --reduce-scatter--> this rank's summed shard piece
//   global norm = sqrt(all-reduce(sum of squares of every shard)); clip; AdamW on the shard
//   shard pieces rounded to the model dtype --all-gather--> every parameter, on every rank.
// AdamW is elementwise, so stepping a flat shard is the same arithmetic as stepping each tensor.
// Checkpoints: one file per rank, "zero-shard-<r>-of-<world>.safetensors", holding the shard's
// masters, moments, step and its range in the flat vector; a resume with another world size
// copies the overlapping ranges of every old shard.
#pragma once
#include <torch/optim/adamw.h>

#include <memory>

#include "dist/flat_layout.h"
#include "train/weight_update.h"

namespace ctxext {

class ShardedAdamW : public WeightUpdate {
 public:
  ShardedAdamW(const NamedTensors& model_params, dist::Communicator& comm, const AdamWSettings& settings);

  double reduce_gradients() override;
  void step(double lr, double grad_norm, double max_norm) override;
  CheckpointFiles checkpoint_files() const override;
  void load(const std::filesystem::path& folder) override;

  static std::string shard_file_name(int rank, int world_size);

 private:
  static constexpr int64_t kBucketBytes = int64_t(64) << 20;  // fp32 input of one collective

  // Calls copy(parameter, offset in it, offset in the range, length) for every parameter piece
  // that lies in the flat range [begin, begin + count).
  template <typename Copy>
  void for_each_overlap(int64_t begin, int64_t count, Copy&& copy) const;
  int64_t bucket_numel() const;  // elements of one rank's piece per collective
  void gather_weights(const char* what);

  NamedTensors model_params_;
  dist::Communicator& comm_;
  dist::FlatLayout layout_;
  int64_t begin_ = 0;         // this rank's first element in the flat vector
  torch::Tensor master_;      // [shard] fp32
  torch::Tensor grad_shard_;  // [shard] fp32, summed over ranks
  std::unique_ptr<torch::optim::AdamW> optimizer_;
};

}  // namespace ctxext
