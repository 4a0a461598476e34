// The `ctxext::linear_cross_entropy` op: schema, autograd, and the C++ entry point.
//
//   linear_cross_entropy(hidden, weight, targets, ignore_index, chunk, reduction) -> loss
//       differentiable (Autograd kernel below)
//   linear_cross_entropy_forward(hidden, weight, targets, ignore_index, chunk, reduction, compute_grad)
//       -> (loss, grad_hidden, grad_weight)          CPU: ops/linear_cross_entropy_cpu.cpp,
//                                                    CUDA: csrc_cuda/linear_cross_entropy.cu
#include "ops/linear_cross_entropy.h"

#include <torch/library.h>
#include <torch/torch.h>

namespace ctxext::ops {

namespace {

using ForwardSignature = std::tuple<at::Tensor, at::Tensor, at::Tensor>(
    const at::Tensor&, const at::Tensor&, const at::Tensor&, int64_t, int64_t, c10::string_view, bool);
using LossSignature = at::Tensor(const at::Tensor&, const at::Tensor&, const at::Tensor&, int64_t, int64_t,
                                 c10::string_view);

const c10::TypedOperatorHandle<ForwardSignature>& forward_op() {
  static const auto handle = c10::Dispatcher::singleton()
                                 .findSchemaOrThrow("ctxext::linear_cross_entropy_forward", "")
                                 .typed<ForwardSignature>();
  return handle;
}

const c10::TypedOperatorHandle<LossSignature>& loss_op() {
  static const auto handle = c10::Dispatcher::singleton()
                                 .findSchemaOrThrow("ctxext::linear_cross_entropy", "")
                                 .typed<LossSignature>();
  return handle;
}

// The gradients are computed in the forward and saved; backward only scales them by grad_output
// (Liger-Kernel's fused linear cross-entropy design). Why: the loss is a scalar at the end of the
// graph, so d(loss)/d(hidden) and d(loss)/d(weight) for grad_output = 1 are all backward needs,
// times one number. Computing them while a chunk's logits are at hand costs 3 matmuls per chunk;
// keeping the logits for backward instead would store the whole [n x v] (the memory this op
// exists to avoid), and recomputing them in backward (what train/causal_lm_loss did with
// checkpointed chunks) costs a 4th matmul. The price: grad_hidden [n, h] and grad_weight [v, h]
// live from forward to backward (the size of the inputs, far less than [n x v] float32 logits),
// and they are computed even if backward never runs, so only when a gradient is wanted.
class LinearCrossEntropyFunction : public torch::autograd::Function<LinearCrossEntropyFunction> {
 public:
  // hidden: [n, h]; weight: [v, h]; targets: [n]
  static at::Tensor forward(torch::autograd::AutogradContext* ctx, const at::Tensor& hidden, const at::Tensor& weight,
                            const at::Tensor& targets, int64_t ignore_index, int64_t chunk,
                            c10::string_view reduction) {
    at::AutoDispatchBelowADInplaceOrView guard;
    auto [loss, grad_hidden, grad_weight] =
        forward_op().call(hidden, weight, targets, ignore_index, chunk, reduction, /*compute_grad=*/true);
    ctx->save_for_backward({grad_hidden, grad_weight});
    return loss;
  }

  static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx,
                                                 torch::autograd::variable_list grad_out) {
    if (!grad_out[0].defined()) return {at::Tensor(), at::Tensor(), at::Tensor(), at::Tensor(), at::Tensor(), at::Tensor()};
    const auto saved = ctx->get_saved_variables();
    // grad_output as a host double: a Scalar multiplies bfloat16 gradients in float32, where a
    // bfloat16-rounded tensor factor would add a relative error of 2^-9.
    const double g = grad_out[0].item<double>();
    const auto scaled = [&](size_t i) { return ctx->needs_input_grad(i) ? saved[i] * g : at::Tensor(); };
    return {scaled(0), scaled(1), at::Tensor(), at::Tensor(), at::Tensor(), at::Tensor()};
  }
};

at::Tensor linear_cross_entropy_autograd(const at::Tensor& hidden, const at::Tensor& weight, const at::Tensor& targets,
                                         int64_t ignore_index, int64_t chunk, c10::string_view reduction) {
  if (torch::GradMode::is_enabled() && (hidden.requires_grad() || weight.requires_grad()))
    return LinearCrossEntropyFunction::apply(hidden, weight, targets, ignore_index, chunk, reduction);
  at::AutoDispatchBelowADInplaceOrView guard;
  return std::get<0>(forward_op().call(hidden, weight, targets, ignore_index, chunk, reduction, false));
}

// Below autograd (no_grad, inference mode): the forward kernel without the gradient matmuls.
at::Tensor linear_cross_entropy_no_autograd(const at::Tensor& hidden, const at::Tensor& weight,
                                            const at::Tensor& targets, int64_t ignore_index, int64_t chunk,
                                            c10::string_view reduction) {
  return std::get<0>(forward_op().call(hidden, weight, targets, ignore_index, chunk, reduction, false));
}

}  // namespace

TORCH_LIBRARY_FRAGMENT(ctxext, m) {
  m.def("linear_cross_entropy(Tensor hidden, Tensor weight, Tensor targets, int ignore_index, int chunk, "
        "str reduction) -> Tensor");
  m.def("linear_cross_entropy_forward(Tensor hidden, Tensor weight, Tensor targets, int ignore_index, int chunk, "
        "str reduction, bool compute_grad) -> (Tensor, Tensor, Tensor)");
}

TORCH_LIBRARY_IMPL(ctxext, Autograd, m) { m.impl("linear_cross_entropy", &linear_cross_entropy_autograd); }
TORCH_LIBRARY_IMPL(ctxext, CompositeExplicitAutograd, m) {
  m.impl("linear_cross_entropy", &linear_cross_entropy_no_autograd);
}

torch::Tensor linear_cross_entropy(const torch::Tensor& hidden, const torch::Tensor& weight,
                                   const torch::Tensor& targets, int64_t ignore_index, int64_t chunk,
                                   LossReduction reduction) {
  return loss_op().call(hidden, weight, targets, ignore_index, chunk,
                        reduction == LossReduction::kMean ? "mean" : "sum");
}

}  // namespace ctxext::ops
