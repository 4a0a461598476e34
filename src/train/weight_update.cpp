#include "train/weight_update.h"

#include "train/fully_sharded_adamw.h"
#include "train/replicated_adamw.h"
#include "train/sharded_adamw.h"

namespace ctxext {

std::unique_ptr<WeightUpdate> make_weight_update(Sharding sharding, LlamaForCausalLMImpl& model,
                                                 dist::Communicator& comm, const AdamWSettings& settings) {
  if (sharding == Sharding::full) return std::make_unique<FullyShardedAdamW>(model, comm, settings);
  NamedTensors params;
  for (const auto& item : model.named_parameters()) params.emplace_back(item.key(), item.value());
  if (sharding == Sharding::optimizer) return std::make_unique<ShardedAdamW>(params, comm, settings);
  return std::make_unique<ReplicatedAdamW>(params, comm, settings);
}

}  // namespace ctxext
