// CUDA kernel of `ctxext::linear_cross_entropy`: the chunk loop of ops/linear_cross_entropy_chunks.cpp
// (cuBLAS matmuls through at::mm) with the row-wise step below as one custom kernel. CPU reference:
// cross_entropy_rows_cpu in src/ops/linear_cross_entropy_cpu.cpp; same arithmetic in opmath(T)
// (float32 for bfloat16/float16/float32 logits, float64 for float64).
//
// One block per row (grid-stride over rows), three passes over the row: the max, the sum of
// exp(x - max) (block-wide through warp shuffles), then the gradient written in place over the
// logits in T: scale * (exp(x - lse) - [i == target]). Each thread reads the target's logit before
// the first block reduction, whose barriers order that read before any thread overwrites it.
#include <ATen/Dispatch.h>
#include <ATen/OpMathType.h>
#include <ATen/core/Tensor.h>
#include <ATen/cuda/CUDAContext.h>
#include <c10/cuda/CUDAGuard.h>
#include <torch/library.h>

#include <algorithm>
#include <cstdint>

#include "ops/linear_cross_entropy_kernels.h"

namespace ctxext::ops {

namespace {

constexpr int kThreads = 512;  // a multiple of 32 (block_reduce relies on it)

struct MaxOp {
  template <typename Acc>
  __device__ Acc operator()(Acc a, Acc b) const { return a > b ? a : b; }
};

struct SumOp {
  template <typename Acc>
  __device__ Acc operator()(Acc a, Acc b) const { return a + b; }
};

// op(v) over the block, returned to every thread. shared: [32]. Safe to call repeatedly.
template <typename Acc, typename Op>
__device__ Acc block_reduce(Acc v, Acc* shared, Op op) {
  for (int o = 16; o > 0; o >>= 1) v = op(v, __shfl_xor_sync(0xffffffffu, v, o));
  const int lane = threadIdx.x % 32, warp = threadIdx.x / 32;
  __syncthreads();  // the previous call's readers are done with shared
  if (lane == 0) shared[warp] = v;
  __syncthreads();
  Acc total = shared[0];
  for (int k = 1; k < int(blockDim.x / 32); ++k) total = op(total, shared[k]);
  return total;
}

// logits: [rows, v] T, in place; targets: [rows]; loss_rows: [rows] Acc
template <typename T>
__global__ void cross_entropy_rows_kernel(T* __restrict__ logits, const int64_t* __restrict__ targets,
                                          at::opmath_type<T>* __restrict__ loss_rows, int64_t rows, int64_t v,
                                          int64_t ignore_index, at::opmath_type<T> scale, bool write_grad) {
  using Acc = at::opmath_type<T>;
  __shared__ Acc shared[32];
  for (int64_t r = blockIdx.x; r < rows; r += gridDim.x) {
    T* x = logits + r * v;
    const int64_t t = targets[r];
    if (t == ignore_index) {  // the same branch for the whole block
      if (threadIdx.x == 0) loss_rows[r] = Acc(0);
      if (write_grad)
        for (int64_t i = threadIdx.x; i < v; i += blockDim.x) x[i] = T(0);
      continue;
    }
    const Acc xt = static_cast<Acc>(x[t]);
    Acc m = -INFINITY;
    for (int64_t i = threadIdx.x; i < v; i += blockDim.x) m = max(m, static_cast<Acc>(x[i]));
    m = block_reduce(m, shared, MaxOp{});
    Acc s = Acc(0);
    for (int64_t i = threadIdx.x; i < v; i += blockDim.x) s += exp(static_cast<Acc>(x[i]) - m);
    s = block_reduce(s, shared, SumOp{});
    const Acc lse = m + log(s);
    if (threadIdx.x == 0) loss_rows[r] = lse - xt;
    if (!write_grad) continue;
    for (int64_t i = threadIdx.x; i < v; i += blockDim.x) {
      const Acc p = exp(static_cast<Acc>(x[i]) - lse);
      x[i] = static_cast<T>((i == t ? p - Acc(1) : p) * scale);
    }
  }
}

std::tuple<at::Tensor, at::Tensor, at::Tensor> linear_cross_entropy_forward_cuda(
    const at::Tensor& hidden, const at::Tensor& weight, const at::Tensor& targets, int64_t ignore_index,
    int64_t chunk, c10::string_view reduction, bool compute_grad) {
  const c10::cuda::CUDAGuard guard(hidden.device());
  return linear_cross_entropy_forward_alloc(hidden, weight, targets, ignore_index, chunk, reduction, compute_grad,
                                            &cross_entropy_rows_cuda);
}

}  // namespace

void cross_entropy_rows_cuda(at::Tensor& logits, const at::Tensor& targets_in, int64_t ignore_index, double scale,
                             at::Tensor& loss_rows, bool write_grad) {
  const c10::cuda::CUDAGuard guard(logits.device());
  const auto targets = targets_in.contiguous();
  const int64_t rows = logits.size(0), v = logits.size(1);
  if (rows == 0) return;
  const int64_t max_blocks = int64_t(at::cuda::getCurrentDeviceProperties()->multiProcessorCount) * 4;
  const int64_t blocks = std::max<int64_t>(1, std::min<int64_t>(rows, max_blocks));
  AT_DISPATCH_FLOATING_TYPES_AND2(at::kBFloat16, at::kHalf, logits.scalar_type(), "ctxext_cross_entropy_rows_cuda",
                                  [&] {
                                    using Acc = at::opmath_type<scalar_t>;
                                    cross_entropy_rows_kernel<scalar_t>
                                        <<<blocks, kThreads, 0, at::cuda::getCurrentCUDAStream()>>>(
                                            logits.mutable_data_ptr<scalar_t>(), targets.const_data_ptr<int64_t>(),
                                            loss_rows.mutable_data_ptr<Acc>(), rows, v, ignore_index,
                                            static_cast<Acc>(scale), write_grad);
                                    C10_CUDA_KERNEL_LAUNCH_CHECK();
                                  });
}

TORCH_LIBRARY_IMPL(ctxext, CUDA, m) { m.impl("linear_cross_entropy_forward", &linear_cross_entropy_forward_cuda); }

}  // namespace ctxext::ops
