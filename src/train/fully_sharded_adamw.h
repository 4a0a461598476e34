// train.sharding: full (ZeRO stage 3, FSDP-style). Parameters are sharded too: each decoder layer
// is one FlatShard unit, and a rank holds only its shard of every layer's fp32 masters, gradient
// and moments; a layer's weights exist whole only while it runs. Through model/layer_hooks.h:
//   before_forward(i)   all-gather layer i's weights (from every rank's masters); start layer
//                       i+1's all-gather so it overlaps layer i's compute (prefetch)
//   after_forward(i)    free them when the layer ran checkpointed (nothing holds them), else
//                       keep them for backward
//   before_backward(i)  all-gather again for the recompute (activation checkpointing); prefetch
//                       layer i-1's
//   after_backward(i)   reduce-scatter layer i's gradients into this rank's shard (summed over
//                       micro-batches), free the weights and the whole-size gradients
// The embeddings, final norm and LM head form one more unit, whole for the length of a step.
// Without activation checkpointing every layer stays whole from its forward until the end of the
// micro-batch's backward (correct, but only the optimizer state is then sharded between steps).
// Checkpoints: zero-shard-<r>-of-<world>.safetensors holding every unit's state ("unit<k>." names).
// train.offload: optimizer: every unit's shard lives on the host; a layer's reduced gradient buckets
// go there through one HostCopyQueue (asynchronous on CUDA) as after_backward(i) reduces them, and
// are added to the host shard (accumulated there over micro-batches); reduce_gradients waits for
// the last copies.
#include <memory>
#include <vector>

#include "model/llama_model.h"
#include "train/flat_shard.h"
#include "train/weight_update.h"

namespace ctxext::train {

class FullyShardedAdamW : public WeightUpdate {
 public:
  FullyShardedAdamW(model::LlamaForCausalLMImpl& model, dist::Communicator& comm, const AdamWSettings& settings,
                    bool offload);
  ~FullyShardedAdamW() override;

  void begin_micro_batch(bool last) override;
  void end_micro_batch() override;
  double reduce_gradients() override;
  void step(double lr, double grad_norm, double max_norm) override;
  void materialize_weights() override;
  CheckpointFiles checkpoint_files() const override;
  void load(const std::filesystem::path& folder) override;

 private:
  struct Unit {
    std::unique_ptr<FlatShard> shard;
    std::vector<std::vector<int64_t>> shapes;  // each parameter's whole shape
    bool whole = false;                        // the parameters hold their whole storage
    std::function<void()> finish_prefetch;     // an all-gather started ahead of use, if any
  };
  void gather(Unit& unit, const char* what);
  void prefetch(size_t unit, const char* what);  // starts the all-gather of a unit used next
  void release(Unit& unit);
  void reduce(Unit& unit, const char* what);  // gradients into the shard (summed), then dropped

  model::LlamaForCausalLMImpl& model_;
  dist::Communicator& comm_;
  std::unique_ptr<HostCopyQueue> to_host_;  // with offload
  std::vector<Unit> units_;  // [0]: embeddings, final norm, LM head; [1 + i]: decoder layer i
  bool step_open_ = false;   // gradients of the current step are being summed
};

}  // namespace ctxext::train
