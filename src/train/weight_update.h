// How one optimizer step turns every rank's gradients into new weights (train.sharding):
//   none      ReplicatedAdamW: each rank holds the whole fp32 master copy and AdamW state;
//             gradients are summed over ranks (bucketed all-reduce). One process: today's trainer.
//   optimizer ShardedAdamW (ZeRO-2): fp32 masters and AdamW moments are split across ranks;
//             gradients are reduce-scattered, each rank steps its shard, weights are all-gathered.
//   full      FullyShardedAdamW (ZeRO-3): the weights too; each layer's are gathered just before
//             it runs (forward, and the recompute of backward) and freed after.
// Each rank's loss is already divided by the GLOBAL number of supervised targets of the step, so
// the sum over ranks is the gradient of one process that saw the whole global batch.
#pragma once
#include <torch/types.h>

#include <filesystem>
#include <map>
#include <memory>
#include <string>

#include "dist/communicator.h"
#include "model/llama_model.h"
#include "train/fused_adamw.h"  // AdamWSettings
#include "train/optimizer_state.h"
#include "train/train_options.h"

namespace ctxext::train {

// file name -> tensors, written by one rank into a checkpoint folder.
using CheckpointFiles = std::map<std::string, std::map<std::string, torch::Tensor>>;

class WeightUpdate {
 public:
  virtual ~WeightUpdate() = default;
  // Around each micro-batch's forward and backward on this rank (ZeRO-3 gathers and reduces there).
  virtual void begin_micro_batch(bool last) {}  // last: the step's final micro-batch on this rank
  virtual void end_micro_batch() {}
  // After every micro-batch's backward on this rank: sums the gradients over ranks and returns
  // the global L2 norm of the summed gradient (before clipping). Same value on every rank.
  virtual double reduce_gradients() = 0;
  // Scales the gradient by min(1, max_norm / (grad_norm + 1e-6)) (max_norm <= 0: no clipping),
  // takes one AdamW step at `lr` and writes the new weights into the model's parameters.
  virtual void step(double lr, double grad_norm, double max_norm) = 0;
  // Makes every parameter of the model whole (ZeRO-3 keeps them sharded), e.g. before an export.
  virtual void materialize_weights() {}
  // What this rank writes into a checkpoint folder (CPU tensors); may be empty.
  virtual CheckpointFiles checkpoint_files() const = 0;
  // Restores masters and optimizer state from a complete checkpoint folder.
  virtual void load(const std::filesystem::path& folder) = 0;
};

// Over the model's parameters (bf16 or fp32), in named_parameters() order. offload_optimizer: the
// fp32 masters and AdamW state live in host memory (pinned when the model is on CUDA) and the step
// runs on the host cores; one process with sharding none then takes ShardedAdamW's flat path
// (the same arithmetic), several ranks need sharding optimizer or full (each offloads its shard).
std::unique_ptr<WeightUpdate> make_weight_update(Sharding sharding, bool offload_optimizer, model::LlamaForCausalLMImpl& model,
                                                 dist::Communicator& comm, const AdamWSettings& settings);

}  // namespace ctxext::train
