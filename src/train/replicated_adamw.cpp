#include "train/replicated_adamw.h"

#include <torch/nn/utils/clip_grad.h>

#include <limits>

#include "core/error.h"
#include "io/safetensors.h"

namespace ctxext {

namespace {
torch::optim::AdamWOptions adamw_options(const AdamWSettings& s) {
  return torch::optim::AdamWOptions(s.lr).betas({s.beta1, s.beta2}).eps(s.eps).weight_decay(s.weight_decay);
}
}  // namespace

ReplicatedAdamW::ReplicatedAdamW(const NamedTensors& model_params, dist::Communicator& comm,
                                 const AdamWSettings& settings)
    : comm_(comm), masters_(model_params), optimizer_(masters_.master_tensors(), adamw_options(settings)) {}

void ReplicatedAdamW::all_reduce_bucketed() {
  // Buckets of consecutive parameters, each summed with one all-reduce of a flat fp32 buffer.
  std::vector<torch::Tensor> bucket;
  int64_t bucket_bytes = 0;
  auto flush = [&] {
    if (bucket.empty()) return;
    std::vector<torch::Tensor> flat_parts;
    for (const auto& g : bucket) flat_parts.push_back(g.reshape({-1}));
    auto flat = torch::cat(flat_parts);
    comm_.all_reduce_sum(flat, "gradient all-reduce");
    int64_t offset = 0;
    for (auto& g : bucket) {
      g.copy_(flat.narrow(0, offset, g.numel()).view_as(g));
      offset += g.numel();
    }
    bucket.clear();
    bucket_bytes = 0;
  };
  for (const auto& [name, master] : masters_.masters()) {
    if (!master.grad().defined()) master.mutable_grad() = torch::zeros_like(master);
    bucket.push_back(master.grad());
    bucket_bytes += master.numel() * static_cast<int64_t>(master.element_size());
    if (bucket_bytes >= kBucketBytes) flush();
  }
  flush();
}

double ReplicatedAdamW::reduce_gradients() {
  masters_.grads_to_masters();
  if (comm_.distributed()) all_reduce_bucketed();
  // The norm as clip_grad_norm_ computes it (an infinite max_norm scales by exactly 1).
  return torch::nn::utils::clip_grad_norm_(masters_.master_tensors(), std::numeric_limits<double>::infinity());
}

void ReplicatedAdamW::step(double lr, double grad_norm, double max_norm) {
  (void)grad_norm;  // clip_grad_norm_ recomputes the same norm from the same gradients
  for (auto& group : optimizer_.param_groups()) group.options().set_lr(lr);
  torch::nn::utils::clip_grad_norm_(masters_.master_tensors(),
                                    max_norm > 0 ? max_norm : std::numeric_limits<double>::infinity());
  optimizer_.step();
  masters_.masters_to_model();
}

CheckpointFiles ReplicatedAdamW::checkpoint_files() const {
  if (!comm_.is_main()) return {};  // every rank holds the same state: rank 0 writes it
  std::map<std::string, torch::Tensor> weights;
  for (const auto& [name, master] : masters_.masters()) weights[name] = master.detach().to(torch::kCPU);
  std::map<std::string, torch::Tensor> moments;
  for (const auto& [name, tensor] : adamw_state_tensors(optimizer_, masters_.masters()))
    moments[name] = tensor.to(torch::kCPU);
  return {{"model.safetensors", weights}, {"optimizer.safetensors", moments}};
}

void ReplicatedAdamW::load(const std::filesystem::path& folder) {
  const auto model_file = folder / "model.safetensors";
  if (!std::filesystem::exists(model_file))
    fail("{}: no model.safetensors: the checkpoint was not written with train.sharding: none", folder.string());
  const auto weights = read_safetensors(model_file).tensors;
  {
    torch::NoGradGuard no_grad;
    for (auto& [name, master] : masters_.masters()) {
      const auto it = weights.find(name);
      if (it == weights.end()) fail("{}: missing tensor '{}'", model_file.string(), name);
      if (it->second.sizes() != master.sizes()) fail("{}: tensor '{}' has the wrong shape", model_file.string(), name);
      master.copy_(it->second);
    }
  }
  masters_.masters_to_model();
  const auto optimizer_file = folder / "optimizer.safetensors";
  load_adamw_state(optimizer_, masters_.masters(), read_safetensors(optimizer_file).tensors, optimizer_file.string());
}

}  // namespace ctxext
