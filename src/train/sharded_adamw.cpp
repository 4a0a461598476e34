#include "train/sharded_adamw.h"

#include <algorithm>
#include <cmath>

namespace ctxext::train {

double clip_coefficient(double grad_norm, double max_norm) {
  return max_norm > 0 ? std::min(1.0, max_norm / (grad_norm + 1e-6)) : 1.0;
}

ShardedAdamW::ShardedAdamW(const NamedTensors& model_params, dist::Communicator& comm, const AdamWSettings& settings,
                           bool offload)
    : comm_(comm),
      to_host_(offload ? std::make_unique<HostCopyQueue>() : nullptr),
      shard_(model_params, comm, settings, offload ? torch::Device(torch::kCPU) : model_params.front().second.device(),
             to_host_.get()) {
  if (offload) shard_.reduce_in_backward();
}

void ShardedAdamW::begin_micro_batch(bool last) { shard_.arm(last); }

double ShardedAdamW::reduce_gradients() {
  shard_.reduce_scatter_grads(/*accumulate=*/false, "gradient reduce-scatter");
  // The whole-size gradients are summed into the shard: free them before the step needs memory.
  for (const auto& [name, p] : shard_.params()) {
    auto param = p;
    param.mutable_grad() = torch::Tensor();
  }
  return std::sqrt(comm_.all_reduce_sum(shard_.local_grad_sum_of_squares(), "gradient norm all-reduce"));
}

void ShardedAdamW::step(double lr, double grad_norm, double max_norm) {
  shard_.step(lr, clip_coefficient(grad_norm, max_norm));
  shard_.all_gather_params("weight all-gather");
}

CheckpointFiles ShardedAdamW::checkpoint_files() const {
  return {{shard_file_name(comm_.rank(), comm_.world_size()), shard_.state_tensors("")}};
}

void ShardedAdamW::load(const std::filesystem::path& folder) {
  shard_.load_state(read_shard_files(folder), "", folder.string());
  shard_.all_gather_params("weight all-gather (resume)");
}

}  // namespace ctxext::train
