// CPU kernel of `ctxext::linear_cross_entropy`: the chunk loop of ops/linear_cross_entropy_chunks.cpp
// (MKL matmuls) with the row-wise step below, in ATen's vectorised CPU ops, in place on the
// chunk's logits (a float32 copy of them for bfloat16/float16): log_softmax, the loss picked at
// the target, then exp, minus one at the target, times the row's scale (0 for an ignored row).
#include <torch/library.h>
#include <torch/torch.h>

#include "ops/linear_cross_entropy_kernels.h"

namespace ctxext::ops {

void cross_entropy_rows_cpu(at::Tensor& logits, const at::Tensor& targets, int64_t ignore_index, double scale,
                            at::Tensor& loss_rows, bool write_grad) {
  const auto acc = loss_rows.scalar_type();
  at::Tensor x = logits.scalar_type() == acc ? logits : logits.to(acc);  // [c, v] float32/float64
  const auto valid = targets.ne(ignore_index);                            // [c] bool
  const auto index = at::where(valid, targets, 0).unsqueeze(1);           // [c, 1]
  // In place: ATen's CPU log_softmax reads each row (max, sum of exp) before it writes that row.
  at::_log_softmax_out(x, x, 1, /*half_to_float=*/false);
  loss_rows.copy_(at::where(valid, x.gather(1, index).squeeze(1).neg(), 0.0));
  if (!write_grad) return;
  x.exp_();
  const auto valid_acc = valid.to(acc).unsqueeze(1);  // [c, 1] 1 where supervised, else 0
  x.scatter_add_(1, index, valid_acc.neg());
  if (scale != 1.0 || !valid.all().item<bool>()) x.mul_(valid_acc * scale);
  if (!x.is_same(logits)) logits.copy_(x);
}

namespace {

std::tuple<at::Tensor, at::Tensor, at::Tensor> linear_cross_entropy_forward_cpu(
    const at::Tensor& hidden, const at::Tensor& weight, const at::Tensor& targets, int64_t ignore_index,
    int64_t chunk, c10::string_view reduction, bool compute_grad) {
  return linear_cross_entropy_forward_alloc(hidden, weight, targets, ignore_index, chunk, reduction, compute_grad,
                                            &cross_entropy_rows_cpu);
}

}  // namespace

TORCH_LIBRARY_IMPL(ctxext, CPU, m) { m.impl("linear_cross_entropy_forward", &linear_cross_entropy_forward_cpu); }

}  // namespace ctxext::ops
