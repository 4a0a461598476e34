#include "train/master_weights.h"

namespace ctxext::train {

MasterWeights::MasterWeights(const NamedTensors& model_params) : model_params_(model_params) {
  for (const auto& [name, p] : model_params_) separate_ = separate_ || p.scalar_type() != torch::kFloat32;
  if (!separate_) {
    masters_ = model_params_;
    return;
  }
  for (const auto& [name, p] : model_params_)
    masters_.emplace_back(name, p.detach().to(torch::kFloat32).clone().set_requires_grad(true));
}

std::vector<torch::Tensor> MasterWeights::master_tensors() const {
  std::vector<torch::Tensor> out;
  for (const auto& [name, t] : masters_) out.push_back(t);
  return out;
}

void MasterWeights::grads_to_masters() {
  if (!separate_) return;
  for (size_t i = 0; i < masters_.size(); ++i) {
    const auto& g = model_params_[i].second.grad();
    masters_[i].second.mutable_grad() = g.defined() ? g.to(torch::kFloat32) : torch::Tensor();
  }
}

void MasterWeights::masters_to_model() {
  if (!separate_) return;
  torch::NoGradGuard no_grad;
  for (size_t i = 0; i < masters_.size(); ++i) model_params_[i].second.copy_(masters_[i].second);
}

}  // namespace ctxext::train
