#include "train/weight_update.h"

#include "train/replicated_adamw.h"
#include "train/sharded_adamw.h"

namespace ctxext {

std::unique_ptr<WeightUpdate> make_weight_update(Sharding sharding, const NamedTensors& model_params,
                                                 dist::Communicator& comm, const AdamWSettings& settings) {
  if (sharding == Sharding::optimizer) return std::make_unique<ShardedAdamW>(model_params, comm, settings);
  return std::make_unique<ReplicatedAdamW>(model_params, comm, settings);
}

}  // namespace ctxext
