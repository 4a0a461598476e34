// The `ctxext::rms_norm` op: schema, autograd, and the C++ entry point.
//
//   rms_norm(x, weight, eps) -> y                          differentiable (Autograd kernel below)
//   rms_norm_forward(x, weight, eps) -> (y, inv_rms)       CPU: ops/rms_norm_cpu.cpp, CUDA: csrc_cuda/rms_norm.cu
//   rms_norm_backward(grad_y, x, weight, inv_rms) -> (grad_x, grad_weight)   same two kernels
#include "ops/rms_norm.h"

#include <torch/library.h>
#include <torch/torch.h>

namespace ctxext::ops {

namespace {

using ForwardSignature = std::tuple<at::Tensor, at::Tensor>(const at::Tensor&, const at::Tensor&, double);
using BackwardSignature = std::tuple<at::Tensor, at::Tensor>(const at::Tensor&, const at::Tensor&, const at::Tensor&,
                                                             const at::Tensor&);
using RmsNormSignature = at::Tensor(const at::Tensor&, const at::Tensor&, double);

const c10::TypedOperatorHandle<ForwardSignature>& forward_op() {
  static const auto handle = c10::Dispatcher::singleton()
                                 .findSchemaOrThrow("ctxext::rms_norm_forward", "")
                                 .typed<ForwardSignature>();
  return handle;
}

const c10::TypedOperatorHandle<BackwardSignature>& backward_op() {
  static const auto handle = c10::Dispatcher::singleton()
                                 .findSchemaOrThrow("ctxext::rms_norm_backward", "")
                                 .typed<BackwardSignature>();
  return handle;
}

const c10::TypedOperatorHandle<RmsNormSignature>& rms_norm_op() {
  static const auto handle =
      c10::Dispatcher::singleton().findSchemaOrThrow("ctxext::rms_norm", "").typed<RmsNormSignature>();
  return handle;
}

// Saves x, weight and the per-row inverse RMS [rows]; the backward kernel recomputes the normalised
// row from them (one pass) and produces grad_x and grad_weight together. The backward is not itself
// differentiable (no double backward through rms_norm).
class RmsNormFunction : public torch::autograd::Function<RmsNormFunction> {
 public:
  // x: [..., h]; weight: [h]
  static at::Tensor forward(torch::autograd::AutogradContext* ctx, const at::Tensor& x, const at::Tensor& weight,
                            double eps) {
    at::AutoDispatchBelowADInplaceOrView guard;
    auto [y, inv_rms] = forward_op().call(x, weight, eps);
    ctx->save_for_backward({x, weight, inv_rms});
    return y;
  }

  static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx,
                                                 torch::autograd::variable_list grad_out) {
    const auto saved = ctx->get_saved_variables();
    auto [grad_x, grad_weight] = backward_op().call(grad_out[0], saved[0], saved[1], saved[2]);
    return {grad_x, grad_weight, at::Tensor()};
  }
};

at::Tensor rms_norm_autograd(const at::Tensor& x, const at::Tensor& weight, double eps) {
  return RmsNormFunction::apply(x, weight, eps);
}

// Below autograd (no_grad, inference mode): the forward kernel, inv_rms dropped.
at::Tensor rms_norm_no_autograd(const at::Tensor& x, const at::Tensor& weight, double eps) {
  return std::get<0>(forward_op().call(x, weight, eps));
}

}  // namespace

TORCH_LIBRARY_FRAGMENT(ctxext, m) {
  m.def("rms_norm(Tensor x, Tensor weight, float eps) -> Tensor");
  m.def("rms_norm_forward(Tensor x, Tensor weight, float eps) -> (Tensor, Tensor)");
  m.def("rms_norm_backward(Tensor grad_y, Tensor x, Tensor weight, Tensor inv_rms) -> (Tensor, Tensor)");
}

TORCH_LIBRARY_IMPL(ctxext, Autograd, m) { m.impl("rms_norm", &rms_norm_autograd); }
TORCH_LIBRARY_IMPL(ctxext, CompositeExplicitAutograd, m) { m.impl("rms_norm", &rms_norm_no_autograd); }

torch::Tensor rms_norm(const torch::Tensor& x, const torch::Tensor& weight, double eps) {
  return rms_norm_op().call(x, weight, eps);
}

}  // namespace ctxext::ops
