// The chunk loop of `ctxext::linear_cross_entropy`, the same on every device: per chunk of c tokens
//   logits      = hidden_c · weightᵀ               [c, v]   one matmul in the inputs' dtype
//   rows(...)   : loss per row, logits := d(loss)/d(logits)   (device-specific, in float32/float64)
//   grad_hidden_c = d(logits) · weight              [c, h]   written into its rows of grad_hidden
//   grad_weight  += d(logits)ᵀ · hidden_c           [v, h]   accumulated over chunks in float32
// so at most one chunk's logits exist at a time, and the three matmuls are all the op does per
// chunk. Chunks without a supervised target are skipped (their grad_hidden rows are zero). For
// bfloat16/float16 each chunk's grad_weight term is one matmul in that dtype (float32 inside the
// GEMM), added to a float32 accumulator; the sum over chunks is rounded once at the end.
#include <torch/torch.h>

#include <algorithm>
#include <vector>

#include "core/error.h"
#include "ops/linear_cross_entropy_kernels.h"

namespace ctxext::ops {

namespace {

at::ScalarType acc_type_of(at::ScalarType t) { return t == at::kDouble ? at::kDouble : at::kFloat; }

}  // namespace

CrossEntropyRowsFn cross_entropy_rows_for(const at::Device& device) {
  if (device.is_cpu()) return &cross_entropy_rows_cpu;
#ifdef CTXEXT_WITH_CUDA
  if (device.is_cuda()) return &cross_entropy_rows_cuda;
#endif
  fail("ctxext::linear_cross_entropy: no kernel for tensors on {} in this build", device.str());
}

void linear_cross_entropy_forward_into(const at::Tensor& hidden_in, const at::Tensor& weight_in,
                                       const at::Tensor& targets, int64_t ignore_index, int64_t chunk,
                                       std::string_view reduction, CrossEntropyRowsFn rows, at::Tensor& loss,
                                       at::Tensor& grad_hidden, at::Tensor& grad_weight) {
  const bool mean = check_linear_cross_entropy_inputs(hidden_in, weight_in, targets, reduction);
  const auto hidden = hidden_in.contiguous();
  const auto weight = weight_in.contiguous();
  const int64_t n = hidden.size(0), v = weight.size(0);
  const auto acc = acc_type_of(hidden.scalar_type());
  // One host copy of the targets (a device sync on CUDA): range check, and which chunks to skip.
  const auto host_targets = targets.to(at::kCPU).contiguous();
  const int64_t supervised = check_linear_cross_entropy_targets(host_targets, v, ignore_index);
  const auto device_targets = targets.contiguous();
  const bool with_grad = grad_hidden.defined();
  const double scale = mean && supervised > 0 ? 1.0 / static_cast<double>(supervised) : 1.0;

  auto loss_rows = at::zeros({n}, hidden.options().dtype(acc));  // [n]
  // [v, h] float32/float64: grad_weight itself when it has that dtype, else a float32 buffer.
  at::Tensor grad_weight_acc;
  if (with_grad) {
    grad_weight_acc = grad_weight.scalar_type() == acc ? grad_weight : at::empty({v, hidden.size(1)}, loss_rows.options());
    grad_weight_acc.zero_();
  }
  const int64_t step = chunk > 0 ? chunk : std::max<int64_t>(n, 1);
  const int64_t* t = host_targets.const_data_ptr<int64_t>();
  for (int64_t begin = 0; begin < n; begin += step) {
    const int64_t c = std::min(step, n - begin);
    const bool any = std::any_of(t + begin, t + begin + c, [&](int64_t x) { return x != ignore_index; });
    if (!any) {
      if (with_grad) grad_hidden.narrow(0, begin, c).zero_();
      continue;
    }
    const auto h_c = hidden.narrow(0, begin, c);  // [c, h]
    auto logits = at::mm(h_c, weight.t());         // [c, v]
    auto loss_c = loss_rows.narrow(0, begin, c);   // [c]
    rows(logits, device_targets.narrow(0, begin, c), ignore_index, scale, loss_c, with_grad);
    if (!with_grad) continue;
    auto grad_h_c = grad_hidden.narrow(0, begin, c);  // [c, h]
    at::mm_out(grad_h_c, logits, weight);
    if (grad_weight_acc.scalar_type() == logits.scalar_type()) {
      grad_weight_acc.addmm_(logits.t(), h_c);
    } else {
      grad_weight_acc.add_(at::mm(logits.t(), h_c));
    }
  }
  // Mean over no supervised target: 0 / 0 = NaN, as PyTorch's cross_entropy.
  loss.copy_(mean ? loss_rows.sum() / static_cast<double>(supervised) : loss_rows.sum());
  if (with_grad && !grad_weight_acc.is_same(grad_weight)) grad_weight.copy_(grad_weight_acc);
}

std::tuple<at::Tensor, at::Tensor, at::Tensor> linear_cross_entropy_forward_alloc(
    const at::Tensor& hidden, const at::Tensor& weight, const at::Tensor& targets, int64_t ignore_index,
    int64_t chunk, std::string_view reduction, bool compute_grad, CrossEntropyRowsFn rows) {
  check_linear_cross_entropy_inputs(hidden, weight, targets, reduction);
  auto loss = at::empty({}, hidden.options().dtype(acc_type_of(hidden.scalar_type())));
  at::Tensor grad_hidden, grad_weight;
  if (compute_grad) {
    grad_hidden = at::empty(hidden.sizes(), hidden.options().memory_format(at::MemoryFormat::Contiguous));
    grad_weight = at::empty(weight.sizes(), weight.options().memory_format(at::MemoryFormat::Contiguous));
  }
  linear_cross_entropy_forward_into(hidden, weight, targets, ignore_index, chunk, reduction, rows, loss, grad_hidden,
                                    grad_weight);
  if (!compute_grad) {
    grad_hidden = at::empty({0}, hidden.options());
    grad_weight = at::empty({0}, weight.options());
  }
  return {loss, grad_hidden, grad_weight};
}

}  // namespace ctxext::ops
