// The pieces behind the `ctxext::linear_cross_entropy` op, shared by ops/linear_cross_entropy_cpu.cpp
// and csrc_cuda/linear_cross_entropy.cu. Kept free of fmt and torch/torch.h so nvcc can include it.
//
// One driver (ops/linear_cross_entropy_chunks.cpp) walks the tokens chunk by chunk with at:: matmuls
// (MKL on the CPU, cuBLAS on CUDA); the only device-specific step is the row-wise one that turns a
// chunk's logits into its per-row losses and, in place, into the gradient of the loss w.r.t. them.
#pragma once
#include <ATen/core/Tensor.h>

#include <cstdint>
#include <string_view>

namespace ctxext::ops {

// Throws ctxext::Error naming the tensor and the reason for any argument the op cannot take (all
// but the target values, see check_linear_cross_entropy_targets). Returns true for "mean", false
// for "sum". hidden: [n, h]; weight: [v, h]; targets: [n] int64
bool check_linear_cross_entropy_inputs(const at::Tensor& hidden, const at::Tensor& weight, const at::Tensor& targets,
                                       std::string_view reduction);
// Throws naming the first target that is neither ignore_index nor in [0, vocab). Returns the number
// of supervised targets (those != ignore_index). targets: [n] int64 on the CPU, contiguous
int64_t check_linear_cross_entropy_targets(const at::Tensor& targets, int64_t vocab, int64_t ignore_index);

// The row-wise step. On entry logits holds one chunk's logits; on exit it holds
// scale * d(loss)/d(logits) = scale * (softmax(row) - onehot(target)) per row, zero rows where the
// target is ignore_index (when write_grad is false it is left in an unspecified state), and
// loss_rows holds logsumexp(row) - row[target] (0 where ignored). The math is done in
// opmath(T) (float32 for bfloat16/float16/float32 logits, float64 for float64).
// logits: [c, v] T contiguous; targets: [c] int64 in range (checked before); loss_rows: [c] opmath(T)
using CrossEntropyRowsFn = void (*)(at::Tensor& logits, const at::Tensor& targets, int64_t ignore_index, double scale,
                                    at::Tensor& loss_rows, bool write_grad);
void cross_entropy_rows_cpu(at::Tensor& logits, const at::Tensor& targets, int64_t ignore_index, double scale,
                            at::Tensor& loss_rows, bool write_grad);
#ifdef CTXEXT_WITH_CUDA
void cross_entropy_rows_cuda(at::Tensor& logits, const at::Tensor& targets, int64_t ignore_index, double scale,
                             at::Tensor& loss_rows, bool write_grad);
#endif
// The row step for tensors on `device`: CPU, or CUDA when csrc_cuda/ was built (fails otherwise).
CrossEntropyRowsFn cross_entropy_rows_for(const at::Device& device);

// The forward, writing the loss and (when grad_hidden is defined) both gradients for a grad_output
// of 1 into the given tensors, which may hold anything beforehand. Checks its arguments.
// hidden: [n, h]; weight: [v, h]; targets: [n] int64; chunk: tokens per chunk (<= 0: all n at once)
// loss: [] opmath(hidden dtype); grad_hidden: [n, h] hidden's dtype or undefined;
// grad_weight: [v, h] weight's dtype, defined exactly when grad_hidden is
void linear_cross_entropy_forward_into(const at::Tensor& hidden, const at::Tensor& weight, const at::Tensor& targets,
                                       int64_t ignore_index, int64_t chunk, std::string_view reduction,
                                       CrossEntropyRowsFn rows, at::Tensor& loss, at::Tensor& grad_hidden,
                                       at::Tensor& grad_weight);

// The same, allocating the outputs (the backend kernels of `ctxext::linear_cross_entropy_forward`).
// Without compute_grad the gradients are empty [0] tensors and no gradient matmul runs.
std::tuple<at::Tensor, at::Tensor, at::Tensor> linear_cross_entropy_forward_alloc(
    const at::Tensor& hidden, const at::Tensor& weight, const at::Tensor& targets, int64_t ignore_index,
    int64_t chunk, std::string_view reduction, bool compute_grad, CrossEntropyRowsFn rows);

}  // namespace ctxext::ops
