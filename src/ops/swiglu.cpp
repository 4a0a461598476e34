// The `ctxext::swiglu` op: schema, argument checks, autograd, and the C++ entry points.
// The schema lives in a TORCH_LIBRARY_FRAGMENT: `ctxext` is defined by ops/rope.cpp.
#include "ops/swiglu.h"

#include <torch/library.h>
#include <torch/torch.h>

#include "core/error.h"
#include "ops/swiglu_kernels.h"

namespace ctxext::ops {

namespace {

std::string shape_of(const at::Tensor& t) { return fmt::format("[{}]", fmt::join(t.sizes(), ", ")); }

void check_like(const char* what, const char* name, const at::Tensor& t, const at::Tensor& gate) {
  if (!t.defined()) fail("{}: {} is undefined", what, name);
  if (t.sizes() != gate.sizes())
    fail("{}: {} has shape {}, expected gate's shape {} (no broadcasting)", what, name, shape_of(t), shape_of(gate));
  if (t.scalar_type() != gate.scalar_type())
    fail("{}: {} has dtype {}, gate has dtype {}", what, name, std::string(c10::toString(t.scalar_type())),
         std::string(c10::toString(gate.scalar_type())));
  if (t.device() != gate.device()) fail("{}: {} is on {}, gate is on {}", what, name, t.device().str(), gate.device().str());
}

using SwigluSignature = at::Tensor(const at::Tensor&, const at::Tensor&);
using SwigluBackwardSignature = std::tuple<at::Tensor, at::Tensor>(const at::Tensor&, const at::Tensor&,
                                                                   const at::Tensor&);

const c10::TypedOperatorHandle<SwigluSignature>& swiglu_op() {
  static const auto handle =
      c10::Dispatcher::singleton().findSchemaOrThrow("ctxext::swiglu", "").typed<SwigluSignature>();
  return handle;
}

const c10::TypedOperatorHandle<SwigluBackwardSignature>& swiglu_backward_op() {
  static const auto handle = c10::Dispatcher::singleton()
                                 .findSchemaOrThrow("ctxext::swiglu_backward", "")
                                 .typed<SwigluBackwardSignature>();
  return handle;
}

// Saves gate and up only (the inputs: no activation-sized intermediate); the backward recomputes
// sigmoid(gate) inside the kernel. swiglu_backward has no autograd kernel of its own, so double
// backward through this op is not supported (the gradients it returns carry no graph).
class SwigluFunction : public torch::autograd::Function<SwigluFunction> {
 public:
  static at::Tensor forward(torch::autograd::AutogradContext* ctx, const at::Tensor& gate, const at::Tensor& up) {
    at::AutoDispatchBelowADInplaceOrView guard;
    ctx->save_for_backward({gate, up});
    return swiglu_op().call(gate, up);
  }

  static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx,
                                                 torch::autograd::variable_list grad_out) {
    if (!grad_out[0].defined()) return {at::Tensor(), at::Tensor()};
    const auto saved = ctx->get_saved_variables();
    auto [grad_gate, grad_up] = swiglu_backward_op().call(grad_out[0], saved[0], saved[1]);
    return {grad_gate, grad_up};
  }
};

at::Tensor swiglu_autograd(const at::Tensor& gate, const at::Tensor& up) { return SwigluFunction::apply(gate, up); }

at::Tensor swiglu_cpu(const at::Tensor& gate, const at::Tensor& up) {
  check_swiglu_inputs("ctxext::swiglu", gate, up);
  auto out = at::empty(gate.sizes(), gate.options().memory_format(at::MemoryFormat::Contiguous));
  swiglu_cpu_into(gate, up, out);
  return out;
}

std::tuple<at::Tensor, at::Tensor> swiglu_backward_cpu(const at::Tensor& grad_out, const at::Tensor& gate,
                                                       const at::Tensor& up) {
  check_swiglu_inputs("ctxext::swiglu_backward", gate, up, &grad_out);
  const auto options = gate.options().memory_format(at::MemoryFormat::Contiguous);
  auto grad_gate = at::empty(gate.sizes(), options);
  auto grad_up = at::empty(gate.sizes(), options);
  swiglu_backward_cpu_into(grad_out, gate, up, grad_gate, grad_up);
  return {grad_gate, grad_up};
}

}  // namespace

void check_swiglu_inputs(const char* what, const at::Tensor& gate, const at::Tensor& up, const at::Tensor* grad_out) {
  if (!gate.defined()) fail("{}: gate is undefined", what);
  const auto t = gate.scalar_type();
  if (t != at::kFloat && t != at::kDouble && t != at::kBFloat16 && t != at::kHalf)
    fail("{}: gate has dtype {}, expected float32, float64, bfloat16 or float16", what, std::string(c10::toString(t)));
  check_like(what, "up", up, gate);
  if (grad_out) check_like(what, "grad_out", *grad_out, gate);
}

TORCH_LIBRARY_FRAGMENT(ctxext, m) {
  m.def("swiglu(Tensor gate, Tensor up) -> Tensor");
  m.def("swiglu_backward(Tensor grad_out, Tensor gate, Tensor up) -> (Tensor, Tensor)");
}

TORCH_LIBRARY_IMPL(ctxext, Autograd, m) { m.impl("swiglu", &swiglu_autograd); }

TORCH_LIBRARY_IMPL(ctxext, CPU, m) {
  m.impl("swiglu", &swiglu_cpu);
  m.impl("swiglu_backward", &swiglu_backward_cpu);
}

torch::Tensor swiglu(const torch::Tensor& gate, const torch::Tensor& up) { return swiglu_op().call(gate, up); }

std::pair<torch::Tensor, torch::Tensor> swiglu_backward(const torch::Tensor& grad_out, const torch::Tensor& gate,
                                                        const torch::Tensor& up) {
  auto [grad_gate, grad_up] = swiglu_backward_op().call(grad_out, gate, up);
  return {grad_gate, grad_up};
}

}  // namespace ctxext::ops
