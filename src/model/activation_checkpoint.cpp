#include "model/activation_checkpoint.h"

#include <torch/autograd.h>
#include <torch/custom_class.h>

namespace ctxext {

namespace {

// Carries the block through autograd's saved_data (an IValue capsule).
struct BlockHolder : torch::CustomClassHolder {
  explicit BlockHolder(Block b) : block(std::move(b)) {}
  Block block;
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
    const auto& block = static_cast<BlockHolder*>(holder.get())->block;
    torch::Tensor x = ctx->get_saved_variables()[0].detach().requires_grad_(true);
    torch::Tensor y;
    {
      torch::AutoGradMode grad_mode(true);
      y = block(x);
    }
    torch::autograd::backward({y}, {grad_out[0]});
    return {x.grad(), torch::Tensor()};
  }
};

}  // namespace

torch::Tensor checkpointed(const Block& block, const torch::Tensor& x) {
  if (!torch::GradMode::is_enabled()) return block(x);
  auto holder = c10::IValue::make_capsule(c10::make_intrusive<BlockHolder>(block));
  return CheckpointFunction::apply(x, holder);
}

}  // namespace ctxext
