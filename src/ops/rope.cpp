// The `ctxext::rope`, `ctxext::rope_qk` and `ctxext::rope_qk_` ops: schemas, autograd, and the C++
// entry points.
#include "ops/rope.h"

#include <torch/csrc/autograd/variable.h>
#include <torch/library.h>
#include <torch/torch.h>

namespace ctxext::ops {

namespace {

using RopeSignature = at::Tensor(const at::Tensor&, const at::Tensor&, const at::Tensor&,
                                 const std::optional<at::Tensor>&, bool, bool);
using RopeQkSignature = std::tuple<at::Tensor, at::Tensor>(const at::Tensor&, const at::Tensor&, const at::Tensor&,
                                                           const at::Tensor&, const std::optional<at::Tensor>&, bool,
                                                           bool);
using RopeQkInplaceSignature = void(at::Tensor&, at::Tensor&, const at::Tensor&, const at::Tensor&,
                                    const std::optional<at::Tensor>&, bool);

const c10::TypedOperatorHandle<RopeSignature>& rope_op() {
  static const auto handle =
      c10::Dispatcher::singleton().findSchemaOrThrow("ctxext::rope", "").typed<RopeSignature>();
  return handle;
}

const c10::TypedOperatorHandle<RopeQkSignature>& rope_qk_op() {
  static const auto handle =
      c10::Dispatcher::singleton().findSchemaOrThrow("ctxext::rope_qk", "").typed<RopeQkSignature>();
  return handle;
}

const c10::TypedOperatorHandle<RopeQkInplaceSignature>& rope_qk_inplace_op() {
  static const auto handle =
      c10::Dispatcher::singleton().findSchemaOrThrow("ctxext::rope_qk_", "").typed<RopeQkInplaceSignature>();
  return handle;
}

// The tables and flags every rope backward needs.
void save_tables(torch::autograd::AutogradContext* ctx, const at::Tensor& cos, const at::Tensor& sin,
                 const std::optional<at::Tensor>& scale, bool interleaved, bool inverse) {
  ctx->saved_data["cos"] = cos;
  ctx->saved_data["sin"] = sin;
  ctx->saved_data["scale"] = scale;
  ctx->saved_data["interleaved"] = interleaved;
  ctx->saved_data["inverse"] = inverse;
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
    save_tables(ctx, cos, sin, scale, interleaved, inverse);
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

// Both gradients in one rope_qk call (q's with the query scale), or one rope call when only one
// output received a gradient.
class RopeQkFunction : public torch::autograd::Function<RopeQkFunction> {
 public:
  // q: [b, s, n_q, h_d]; k: [b, s, n_kv, h_d]; cos, sin: [s, h_d/2]; q_scale: optional [s]
  static torch::autograd::variable_list forward(torch::autograd::AutogradContext* ctx, const at::Tensor& q,
                                                const at::Tensor& k, const at::Tensor& cos, const at::Tensor& sin,
                                                const std::optional<at::Tensor>& q_scale, bool interleaved,
                                                bool inverse) {
    at::AutoDispatchBelowADInplaceOrView guard;
    ctx->set_materialize_grads(false);  // an output outside the loss gets no gradient (nor a launch)
    save_tables(ctx, cos, sin, q_scale, interleaved, inverse);
    auto [q_rot, k_rot] = rope_qk_op().call(q, k, cos, sin, q_scale, interleaved, inverse);
    return {q_rot, k_rot};
  }

  static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx,
                                                 torch::autograd::variable_list grad_out) {
    const auto cos = ctx->saved_data["cos"].toTensor();
    const auto sin = ctx->saved_data["sin"].toTensor();
    const auto q_scale = ctx->saved_data["scale"].toOptional<at::Tensor>();
    const bool interleaved = ctx->saved_data["interleaved"].toBool();
    const bool inverse = !ctx->saved_data["inverse"].toBool();
    const auto& gq = grad_out[0];
    const auto& gk = grad_out[1];
    at::Tensor grad_q, grad_k;
    if (gq.defined() && gk.defined()) {
      std::tie(grad_q, grad_k) = rope_qk_op().call(gq, gk, cos, sin, q_scale, interleaved, inverse);
    } else if (gq.defined()) {
      grad_q = rope_op().call(gq, cos, sin, q_scale, interleaved, inverse);
    } else if (gk.defined()) {
      grad_k = rope_op().call(gk, cos, sin, std::nullopt, interleaved, inverse);
    }
    return {grad_q, grad_k, at::Tensor(), at::Tensor(), at::Tensor(), at::Tensor(), at::Tensor()};
  }
};

at::Tensor rope_autograd(const at::Tensor& x, const at::Tensor& cos, const at::Tensor& sin,
                         const std::optional<at::Tensor>& scale, bool interleaved, bool inverse) {
  return RopeFunction::apply(x, cos, sin, scale, interleaved, inverse);
}

std::tuple<at::Tensor, at::Tensor> rope_qk_autograd(const at::Tensor& q, const at::Tensor& k, const at::Tensor& cos,
                                                    const at::Tensor& sin, const std::optional<at::Tensor>& q_scale,
                                                    bool interleaved, bool inverse) {
  const auto out = RopeQkFunction::apply(q, k, cos, sin, q_scale, interleaved, inverse);
  return {out[0], out[1]};
}

// The in-place rotation has no backward: the backend kernel refuses inputs that require grad. Here
// it only bumps the version counters, so a tensor saved for someone else's backward is caught.
void rope_qk_inplace_autograd(at::Tensor& q, at::Tensor& k, const at::Tensor& cos, const at::Tensor& sin,
                              const std::optional<at::Tensor>& q_scale, bool interleaved) {
  {
    at::AutoDispatchBelowADInplaceOrView guard;
    rope_qk_inplace_op().call(q, k, cos, sin, q_scale, interleaved);
  }
  torch::autograd::impl::bump_version(q);
  torch::autograd::impl::bump_version(k);
}

}  // namespace

TORCH_LIBRARY(ctxext, m) {
  m.def("rope(Tensor x, Tensor cos, Tensor sin, Tensor? scale, bool interleaved, bool inverse) -> Tensor");
  m.def(
      "rope_qk(Tensor q, Tensor k, Tensor cos, Tensor sin, Tensor? q_scale, bool interleaved, bool inverse) -> "
      "(Tensor, Tensor)");
  m.def("rope_qk_(Tensor(a!) q, Tensor(b!) k, Tensor cos, Tensor sin, Tensor? q_scale, bool interleaved) -> ()");
}

TORCH_LIBRARY_IMPL(ctxext, Autograd, m) {
  m.impl("rope", &rope_autograd);
  m.impl("rope_qk", &rope_qk_autograd);
  m.impl("rope_qk_", &rope_qk_inplace_autograd);
}

torch::Tensor rope(const torch::Tensor& x, const torch::Tensor& cos, const torch::Tensor& sin,
                   const std::optional<torch::Tensor>& scale, bool interleaved) {
  return rope_op().call(x, cos, sin, scale, interleaved, /*inverse=*/false);
}

std::pair<torch::Tensor, torch::Tensor> rope_qk(const torch::Tensor& q, const torch::Tensor& k,
                                                const torch::Tensor& cos, const torch::Tensor& sin,
                                                const std::optional<torch::Tensor>& q_scale, bool interleaved) {
  auto [q_rot, k_rot] = rope_qk_op().call(q, k, cos, sin, q_scale, interleaved, /*inverse=*/false);
  return {q_rot, k_rot};
}

void rope_qk_(torch::Tensor& q, torch::Tensor& k, const torch::Tensor& cos, const torch::Tensor& sin,
              const std::optional<torch::Tensor>& q_scale, bool interleaved) {
  rope_qk_inplace_op().call(q, k, cos, sin, q_scale, interleaved);
}

}  // namespace ctxext::ops
