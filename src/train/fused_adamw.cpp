#include "train/fused_adamw.h"

#include <ATen/ops/_fused_adamw.h>
#include <torch/torch.h>

#include "core/error.h"

namespace ctxext::train {

FusedAdamW::FusedAdamW(std::vector<torch::Tensor> params, const AdamWSettings& settings)
    : params_(std::move(params)), states_(params_.size()), settings_(settings) {
  for (size_t i = 0; i < params_.size(); ++i) {
    const auto& p = params_[i];
    if (p.scalar_type() != torch::kFloat32 || !p.is_contiguous() || p.device() != params_.front().device())
      fail("AdamW: tensor {} must be contiguous fp32 on {} (got {} on {})", i, params_.front().device().str(),
           c10::toString(p.scalar_type()), p.device().str());
  }
}

void FusedAdamW::step(double lr) {
  torch::NoGradGuard no_grad;
  std::vector<torch::Tensor> params, grads, avgs, avg_sqs, steps;
  for (size_t i = 0; i < params_.size(); ++i) {
    const auto& p = params_[i];
    if (!p.grad().defined()) continue;
    auto& s = states_[i];
    if (!s) s = State{torch::zeros_like(p), torch::zeros_like(p), 0};
    ++s->step;
    params.push_back(p);
    grads.push_back(p.grad());
    avgs.push_back(s->exp_avg);
    avg_sqs.push_back(s->exp_avg_sq);
    // The kernel reads the step count from a float tensor on the tensors' device (exact below 2^24).
    steps.push_back(torch::full({}, static_cast<double>(s->step), p.options()));
  }
  if (params.empty()) return;
  at::_fused_adamw_(params, grads, avgs, avg_sqs, /*max_exp_avg_sqs=*/{}, steps, lr, settings_.beta1, settings_.beta2,
                    settings_.weight_decay, settings_.eps, /*amsgrad=*/false, /*maximize=*/false);
}

void FusedAdamW::set_state(size_t i, State state) {
  const auto& p = params_.at(i);
  if (!state.exp_avg.defined() || !state.exp_avg_sq.defined() || state.exp_avg.sizes() != p.sizes() ||
      state.exp_avg_sq.sizes() != p.sizes())
    fail("AdamW: restored moments of tensor {} do not have its shape", i);
  // A copy: the restored tensors may be views of a memory-mapped file.
  state.exp_avg = state.exp_avg.to(p.options(), /*non_blocking=*/false, /*copy=*/true);
  state.exp_avg_sq = state.exp_avg_sq.to(p.options(), /*non_blocking=*/false, /*copy=*/true);
  states_[i] = std::move(state);
}

}  // namespace ctxext::train
