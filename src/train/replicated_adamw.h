// train.sharding: none. Plain data parallel: every rank holds the whole fp32 master copy and AdamW
// state, and the gradients are summed over ranks in flat fp32 buckets of at most kBucketBytes (one
// all-reduce each, DDP's default size). As in DDP, the all-reduce of a bucket of decoder-layer
// parameters starts during the last micro-batch's backward, as soon as autograd has accumulated
// the gradient of its last parameter (a post-accumulate-grad hook), so communication overlaps the
// rest of backward. The embeddings, final norm and LM head (the LM head's gradient arrives from
// several re-entrant loss chunks) are summed after backward. With one process there is no
// communication and the arithmetic is exactly the single-process trainer's.
#pragma once
#include <vector>

#include "train/fused_adamw.h"
#include "train/master_weights.h"
#include "train/weight_update.h"

namespace ctxext::train {

class ReplicatedAdamW : public WeightUpdate {
 public:
  static constexpr int64_t kBucketBytes = int64_t(25) << 20;

  ReplicatedAdamW(const NamedTensors& model_params, dist::Communicator& comm, const AdamWSettings& settings);
  ~ReplicatedAdamW() override;

  void begin_micro_batch(bool last) override;
  double reduce_gradients() override;
  void step(double lr, double grad_norm, double max_norm) override;
  CheckpointFiles checkpoint_files() const override;  // model + optimizer safetensors, from rank 0
  void load(const std::filesystem::path& folder) override;

  void on_gradient_ready(size_t parameter);  // called by the autograd hook

 private:
  struct Bucket {
    std::vector<size_t> parameters;  // indices into model_params_
    bool early = false;              // launched from backward (decoder-layer parameters only)
    size_t ready = 0;
    torch::Tensor flat;              // fp32, the summed gradients once `pending` is waited for
    dist::PendingCollective pending;
    bool launched = false;
  };
  void launch(Bucket& bucket);

  dist::Communicator& comm_;
  NamedTensors model_params_;
  MasterWeights masters_;
  FusedAdamW optimizer_;
  std::vector<Bucket> buckets_;
  std::vector<size_t> bucket_of_;  // parameter -> bucket
  torch::Tensor grad_norm_;        // reduce_gradients()'s total norm (0-dim fp32), reused by step()
  bool armed_ = false;             // the last micro-batch of the step is running
};

}  // namespace ctxext::train
