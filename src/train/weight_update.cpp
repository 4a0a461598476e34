#include "train/weight_update.h"

#include "core/error.h"
#include "train/fully_sharded_adamw.h"
#include "train/replicated_adamw.h"
#include "train/sharded_adamw.h"

namespace ctxext::train {

std::unique_ptr<WeightUpdate> make_weight_update(Sharding sharding, bool offload_optimizer, model::LlamaForCausalLMImpl& model,
                                                 dist::Communicator& comm, const AdamWSettings& settings) {
  NamedTensors params;
  for (const auto& item : model.named_parameters()) params.emplace_back(item.key(), item.value());
  if (sharding == Sharding::full) return std::make_unique<FullyShardedAdamW>(model, comm, settings, offload_optimizer);
  if (sharding == Sharding::optimizer || offload_optimizer) {
    if (sharding == Sharding::none && comm.distributed())
      fail("train.offload: optimizer with train.sharding: none on {} ranks would keep a whole copy of the "
           "optimizer state in host memory per rank: use train.sharding: optimizer or full (each rank offloads its "
           "shard)", comm.world_size());
    return std::make_unique<ShardedAdamW>(params, comm, settings, offload_optimizer);
  }
  return std::make_unique<ReplicatedAdamW>(params, comm, settings);
}

}  // namespace ctxext::train
