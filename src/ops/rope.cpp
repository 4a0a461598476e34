// The `ctxext::rope` op: schema, autograd, and the C++ entry point.
#include "ops/rope.h"

#include <torch/library.h>
#include <torch/torch.h>

namespace ctxext::ops {

namespace {

using RopeSignature = at::Tensor(const at::Tensor&, const at::Tensor&, const at::Tensor&,
                                 const std::optional<at::Tensor>&, bool, bool);

const c10::TypedOperatorHandle<RopeSignature>& rope_op() {
  static const auto handle =
      c10::Dispatcher::singleton().findSchemaOrThrow("ctxext::rope", "").typed<RopeSignature>();
  return handle;
}

// d out / d x is the rotation by the negative angle, scaled the same way (the scale is per
// position, so it commutes with the rotation). No gradient flows to cos, sin or scale: they are
// functions of positions, not parameters.
class RopeFunction : public torch::autograd::Function<RopeFunction> {
 public:
  // x: [b, s, n_h, h_d]; cos, sin: [s, h_d/2]; scale: optional [s]
  static at::Tensor forward(torch::autograd::AutogradContext* ctx, const at::Tensor& x, const at::Tensor& cos,
                            const at::Tensor& sin, const std::optional<at::Tensor>& scale, bool interleaved,
                            bool inverse) {
    at::AutoDispatchBelowADInplaceOrView guard;
    ctx->saved_data["cos"] = cos;
    ctx->saved_data["sin"] = sin;
    ctx->saved_data["scale"] = scale;
    ctx->saved_data["interleaved"] = interleaved;
    ctx->saved_data["inverse"] = inverse;
    return rope_op().call(x, cos, sin, scale, interleaved, inverse);
  }

  static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx,
                                                 torch::autograd::variable_list grad_out) {
    const auto scale = ctx->saved_data["scale"].toOptional<at::Tensor>();
    // Through the dispatcher again, so the backward is itself differentiable (double backward).
    const auto grad_x = rope_op().call(grad_out[0], ctx->saved_data["cos"].toTensor(),
                                       ctx->saved_data["sin"].toTensor(), scale,
                                       ctx->saved_data["interleaved"].toBool(), !ctx->saved_data["inverse"].toBool());
    return {grad_x, at::Tensor(), at::Tensor(), at::Tensor(), at::Tensor(), at::Tensor()};
  }
};

at::Tensor rope_autograd(const at::Tensor& x, const at::Tensor& cos, const at::Tensor& sin,
                         const std::optional<at::Tensor>& scale, bool interleaved, bool inverse) {
  return RopeFunction::apply(x, cos, sin, scale, interleaved, inverse);
}

}  // namespace

TORCH_LIBRARY(ctxext, m) {
  m.def("rope(Tensor x, Tensor cos, Tensor sin, Tensor? scale, bool interleaved, bool inverse) -> Tensor");
}

TORCH_LIBRARY_IMPL(ctxext, Autograd, m) { m.impl("rope", &rope_autograd); }

torch::Tensor rope(const torch::Tensor& x, const torch::Tensor& cos, const torch::Tensor& sin,
                   const std::optional<torch::Tensor>& scale, bool interleaved) {
  return rope_op().call(x, cos, sin, scale, interleaved, /*inverse=*/false);
}

}  // namespace ctxext::ops
