#include "train/gradient_ready_hook.h"

#include <torch/csrc/autograd/function_hook.h>
#include <torch/csrc/autograd/variable.h>

namespace ctxext::train {

namespace {

class GradientReadyHook : public torch::autograd::PostAccumulateGradHook {
 public:
  explicit GradientReadyHook(std::function<void()> ready) : ready_(std::move(ready)) {}
  void operator()(const torch::autograd::Variable&) override { ready_(); }

 private:
  std::function<void()> ready_;
};

}  // namespace

void set_gradient_ready_hook(const torch::Tensor& param, std::function<void()> ready) {
  torch::autograd::impl::set_post_acc_grad_hooks(param, std::make_unique<GradientReadyHook>(std::move(ready)));
}

void clear_gradient_ready_hook(const torch::Tensor& param) {
  if (torch::autograd::impl::post_acc_grad_hooks(param)) torch::autograd::impl::set_post_acc_grad_hooks(param, nullptr);
}

bool gradient_arrives_once(const std::string& name) { return name.rfind("model.layers.", 0) == 0; }

}  // namespace ctxext::train
