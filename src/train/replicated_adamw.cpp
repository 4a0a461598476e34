#include "train/replicated_adamw.h"



#include "core/error.h"
#include "io/safetensors.h"
#include "train/gradient_ready_hook.h"

namespace ctxext::train {

ReplicatedAdamW::ReplicatedAdamW(const NamedTensors& model_params, dist::Communicator& comm,
                                 const AdamWSettings& settings)
    : comm_(comm),
      model_params_(model_params),
      masters_(model_params),
      optimizer_(masters_.master_tensors(), settings) {
  if (!comm_.distributed()) return;
  // Buckets in reverse parameter order (roughly the order backward produces gradients); decoder
  // layers and the rest are never mixed in one bucket.
  bucket_of_.resize(model_params_.size());
  int64_t bytes = 0;
  for (size_t k = model_params_.size(); k-- > 0;) {
    const auto& [name, p] = model_params_[k];
    const bool early = gradient_arrives_once(name);
    if (buckets_.empty() || bytes >= kBucketBytes || buckets_.back().early != early) {
      buckets_.emplace_back();
      buckets_.back().early = early;
      bytes = 0;
    }
    buckets_.back().parameters.push_back(k);
    bucket_of_[k] = buckets_.size() - 1;
    bytes += p.numel() * 4;
    if (early) set_gradient_ready_hook(p, [this, k] { on_gradient_ready(k); });
  }
}

ReplicatedAdamW::~ReplicatedAdamW() {
  for (const auto& [name, p] : model_params_) clear_gradient_ready_hook(p);
}

void ReplicatedAdamW::begin_micro_batch(bool last) {
  armed_ = last && comm_.distributed();
  if (!armed_) return;
  for (auto& bucket : buckets_) {
    bucket.ready = 0;
    bucket.launched = false;
  }
}

void ReplicatedAdamW::on_gradient_ready(size_t parameter) {
  if (!armed_) return;
  auto& bucket = buckets_[bucket_of_[parameter]];
  if (++bucket.ready == bucket.parameters.size()) launch(bucket);
}

void ReplicatedAdamW::launch(Bucket& bucket) {
  std::vector<torch::Tensor> parts;
  for (const size_t k : bucket.parameters) {
    const auto& p = model_params_[k].second;
    const auto& g = p.grad();
    parts.push_back(g.defined() ? g.reshape({-1}).to(torch::kFloat32) : torch::zeros({p.numel()}, p.options().dtype(torch::kFloat32)));
  }
  bucket.flat = torch::cat(parts);
  bucket.pending = comm_.all_reduce_sum_async(bucket.flat, "gradient all-reduce");
  bucket.launched = true;
}

double ReplicatedAdamW::reduce_gradients() {
  masters_.grads_to_masters();
  if (comm_.distributed()) {
    // Every bucket not started during backward (the rest, or a parameter without a gradient) now,
    // in the same order on every rank; then the sums replace each master's gradient.
    for (auto& bucket : buckets_)
      if (!bucket.launched) launch(bucket);
    armed_ = false;
    for (auto& bucket : buckets_) {
      bucket.pending.wait();
      int64_t offset = 0;
      for (const size_t k : bucket.parameters) {
        auto& master = masters_.masters()[k].second;
        const auto summed = bucket.flat.narrow(0, offset, master.numel()).view_as(master);
        if (master.grad().defined()) master.mutable_grad().copy_(summed);
        else master.mutable_grad() = summed.clone();
        offset += master.numel();
      }
      bucket.flat = torch::Tensor();
      bucket.launched = false;
    }
  }
  // The total norm exactly as torch::nn::utils::clip_grad_norm_ computes it (each gradient's 2-norm,
  // then the 2-norm of those), once per step: step() clips with it instead of computing it again.
  std::vector<torch::Tensor> norms;
  for (const auto& master : masters_.master_tensors())
    if (master.grad().defined()) norms.push_back(master.grad().norm(2));
  if (norms.empty()) {
    grad_norm_ = torch::Tensor();
    return 0.0;
  }
  grad_norm_ = norms.size() == 1 ? norms[0] : torch::stack(norms).norm(2);
  return grad_norm_.item<double>();
}

void ReplicatedAdamW::step(double lr, double grad_norm, double max_norm) {
  (void)grad_norm;  // the same value as grad_norm_, which keeps clip_grad_norm_'s float32 arithmetic
  if (max_norm > 0 && grad_norm_.defined()) {
    // clip_grad_norm_'s coefficient, bit for bit; a coefficient of exactly 1 changes nothing and is skipped.
    const auto coef = torch::clamp(max_norm / (grad_norm_ + 1e-6), std::nullopt, 1.0);
    if (coef.item<double>() < 1.0) {
      torch::NoGradGuard no_grad;
      for (const auto& master : masters_.master_tensors())
        if (master.grad().defined()) master.mutable_grad().mul_(coef);
    }
  }
  optimizer_.step(lr);
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
  const auto weights = io::read_safetensors(model_file).tensors;
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
  load_adamw_state(optimizer_, masters_.masters(), io::read_safetensors(optimizer_file).tensors, optimizer_file.string());
}

}  // namespace ctxext::train
