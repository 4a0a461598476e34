#include "model/activation_checkpoint.h"

#include <torch/autograd.h>
#include <torch/custom_class.h>

namespace ctxext::model {

namespace {

// Carries the block through autograd's saved_data (an IValue capsule).
struct BlockHolder : torch::CustomClassHolder {
  BlockHolder(Block b, std::function<void()> before, std::function<void()> after)
      : block(std::move(b)), before_backward(std::move(before)), after_backward(std::move(after)) {}
  Block block;
  std::function<void()> before_backward, after_backward;
};

class CheckpointFunction : public torch::autograd::Function<CheckpointFunction> {
 public:
  static torch::Tensor forward(torch::autograd::AutogradContext* ctx, torch::Tensor x, c10::IValue holder) {
    ctx->saved_data["block"] = holder;
    ctx->save_for_backward({x});
    torch::NoGradGuard no_grad;
    const auto capsule = holder.toCapsule();
    return static_cast<BlockHolder*>(capsule.get())->block(x);
  }

  static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx,
                                                 torch::autograd::variable_list grad_out) {
    const auto holder = ctx->saved_data["block"].toCapsule();
    const auto& held = *static_cast<BlockHolder*>(holder.get());
    torch::Tensor x = ctx->get_saved_variables()[0].detach().requires_grad_(true);
    if (held.before_backward) held.before_backward();
    torch::Tensor y;
    {
      torch::AutoGradMode grad_mode(true);
      y = held.block(x);
    }
    torch::autograd::backward({y}, {grad_out[0]});
    y = torch::Tensor();  // the recomputed graph (and what it holds of the weights) goes now
    if (held.after_backward) held.after_backward();
    return {x.grad(), torch::Tensor()};
  }
};

}  // namespace

torch::Tensor checkpointed(const Block& block, const torch::Tensor& x, std::function<void()> before_backward,
                           std::function<void()> after_backward) {
  if (!torch::GradMode::is_enabled()) return block(x);
  auto holder = c10::IValue::make_capsule(
      c10::make_intrusive<BlockHolder>(block, std::move(before_backward), std::move(after_backward)));
  return CheckpointFunction::apply(x, holder);
}

}  // namespace ctxext::model
