// CUDA kernels of `ctxext::rms_norm` (forward and backward). CPU reference: src/ops/rms_norm_cpu.cpp;
// same arithmetic: statistics in float32 (float64 for float64 x), the normalised row cast to x's
// dtype before the weight multiplies it (HF LlamaRMSNorm).
//
// One block per row (grid-stride over rows), a block-wide sum of squares (forward) or of g·x
// (backward) through warp shuffles. grad_weight: each block accumulates its rows into its own row
// of a [blocks, h] buffer (no atomics), a second kernel sums the blocks in order per column, so
// the result is deterministic.
#include <ATen/Dispatch.h>
#include <ATen/OpMathType.h>
#include <ATen/core/Tensor.h>
#include <ATen/cuda/CUDAContext.h>
#include <ATen/ops/empty.h>
#include <ATen/ops/zeros.h>
#include <c10/cuda/CUDAGuard.h>
#include <torch/library.h>

#include <algorithm>
#include <cstdint>

#include "ops/rms_norm_kernels.h"

namespace ctxext::ops {

namespace {

constexpr int kThreads = 256;  // a multiple of 32 (block_sum relies on it)

// Sum of v over the block, returned to every thread. shared: [32]. Safe to call repeatedly.
template <typename Acc>
__device__ Acc block_sum(Acc v, Acc* shared) {
  for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
  const int lane = threadIdx.x % 32, warp = threadIdx.x / 32, warps = blockDim.x / 32;
  __syncthreads();  // the previous call's readers are done with shared
  if (lane == 0) shared[warp] = v;
  __syncthreads();
  Acc total = Acc(0);
  for (int k = 0; k < warps; ++k) total += shared[k];
  return total;
}

// x: [rows, h]; w: [h] (OAcc); y: [rows, h]; inv: [rows]
template <typename T, typename O>
__global__ void rms_norm_forward_kernel(const T* __restrict__ x, const at::opmath_type<O>* __restrict__ w,
                                        O* __restrict__ y, at::opmath_type<T>* __restrict__ inv, int64_t rows,
                                        int64_t h, double eps) {
  using Acc = at::opmath_type<T>;
  using OAcc = at::opmath_type<O>;
  __shared__ Acc shared[32];
  for (int64_t r = blockIdx.x; r < rows; r += gridDim.x) {
    const T* xr = x + r * h;
    O* yr = y + r * h;
    Acc ss = Acc(0);
    for (int64_t i = threadIdx.x; i < h; i += blockDim.x) {
      const Acc v = static_cast<Acc>(xr[i]);
      ss += v * v;
    }
    ss = block_sum(ss, shared);
    const Acc rr = Acc(1) / sqrt(ss / static_cast<Acc>(h) + static_cast<Acc>(eps));
    if (threadIdx.x == 0) inv[r] = rr;
    for (int64_t i = threadIdx.x; i < h; i += blockDim.x) {
      const T n = static_cast<T>(static_cast<Acc>(xr[i]) * rr);
      yr[i] = static_cast<O>(w[i] * static_cast<OAcc>(n));
    }
  }
}

// gy: [rows, h] (O); x: [rows, h]; w: [h] (OAcc); inv: [rows]; gx: [rows, h]; part: [gridDim.x, h] zeroed
template <typename T, typename O>
__global__ void rms_norm_backward_kernel(const O* __restrict__ gy, const T* __restrict__ x,
                                         const at::opmath_type<O>* __restrict__ w,
                                         const at::opmath_type<T>* __restrict__ inv, T* __restrict__ gx,
                                         at::opmath_type<O>* __restrict__ part, int64_t rows, int64_t h) {
  using Acc = at::opmath_type<T>;
  using OAcc = at::opmath_type<O>;
  __shared__ Acc shared[32];
  OAcc* pr = part + blockIdx.x * h;
  for (int64_t r = blockIdx.x; r < rows; r += gridDim.x) {
    const O* gyr = gy + r * h;
    const T* xr = x + r * h;
    T* gxr = gx + r * h;
    const Acc rr = inv[r];
    Acc dot = Acc(0);
    for (int64_t i = threadIdx.x; i < h; i += blockDim.x) {
      const Acc g = static_cast<Acc>(static_cast<T>(static_cast<O>(static_cast<OAcc>(gyr[i]) * w[i])));
      dot += g * static_cast<Acc>(xr[i]);
    }
    dot = block_sum(dot, shared);
    const Acc k = rr * rr * rr * dot / static_cast<Acc>(h);
    for (int64_t i = threadIdx.x; i < h; i += blockDim.x) {
      const OAcc gyv = static_cast<OAcc>(gyr[i]);
      const Acc g = static_cast<Acc>(static_cast<T>(static_cast<O>(gyv * w[i])));
      const Acc xi = static_cast<Acc>(xr[i]);
      gxr[i] = static_cast<T>(g * rr - xi * k);
      pr[i] += gyv * static_cast<OAcc>(static_cast<T>(xi * rr));
    }
  }
}

// part: [blocks, h] -> gw: [h], blocks summed in order.
template <typename Acc>
__global__ void sum_blocks_kernel(const Acc* __restrict__ part, int64_t blocks, int64_t h, Acc* __restrict__ gw) {
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < h; i += int64_t(gridDim.x) * blockDim.x) {
    Acc s = Acc(0);
    for (int64_t b = 0; b < blocks; ++b) s += part[b * h + i];
    gw[i] = s;
  }
}

int64_t row_blocks(int64_t rows) {
  const int64_t max_blocks = int64_t(at::cuda::getCurrentDeviceProperties()->multiProcessorCount) * 8;
  return std::max<int64_t>(1, std::min<int64_t>(rows, max_blocks));
}

int64_t rows_of(const at::Tensor& x) { return x.size(-1) == 0 ? x.numel() : x.numel() / x.size(-1); }

at::ScalarType acc_type_of(at::ScalarType t) { return t == at::kDouble ? at::kDouble : at::kFloat; }

std::tuple<at::Tensor, at::Tensor> rms_norm_forward_cuda(const at::Tensor& x, const at::Tensor& weight, double eps) {
  check_rms_norm_inputs(x, weight);
  const auto out_type = c10::promoteTypes(x.scalar_type(), weight.scalar_type());
  auto y = at::empty(x.sizes(), x.options().dtype(out_type).memory_format(at::MemoryFormat::Contiguous));
  auto inv = at::empty({rows_of(x)}, x.options().dtype(acc_type_of(x.scalar_type())));
  rms_norm_forward_cuda_into(x, weight, eps, y, inv);
  return {y, inv};
}

std::tuple<at::Tensor, at::Tensor> rms_norm_backward_cuda(const at::Tensor& grad_y, const at::Tensor& x,
                                                          const at::Tensor& weight, const at::Tensor& inv) {
  check_rms_norm_inputs(x, weight);
  const auto out_type = c10::promoteTypes(x.scalar_type(), weight.scalar_type());
  auto gx = at::empty(x.sizes(), x.options().memory_format(at::MemoryFormat::Contiguous));
  auto gw = at::empty({x.size(-1)}, x.options().dtype(acc_type_of(out_type)));
  rms_norm_backward_cuda_into(grad_y.to(out_type), x, weight, inv, gx, gw);
  return {gx, gw.to(weight.scalar_type())};
}

}  // namespace

void rms_norm_forward_cuda_into(const at::Tensor& x_in, const at::Tensor& weight, double eps, at::Tensor& y,
                                at::Tensor& inv) {
  const c10::cuda::CUDAGuard guard(x_in.device());
  const auto x = x_in.contiguous();
  const int64_t h = x.size(-1), rows = rows_of(x);
  if (rows == 0) return;
  AT_DISPATCH_FLOATING_TYPES_AND2(at::kBFloat16, at::kHalf, x.scalar_type(), "ctxext_rms_norm_forward_cuda", [&] {
    using T = scalar_t;
    with_output_type<T>(y.scalar_type(), [&](auto o_tag) {
      using O = decltype(o_tag);
      using OAcc = at::opmath_type<O>;
      const at::Tensor w = weight.to(c10::CppTypeToScalarType<OAcc>::value).contiguous();
      rms_norm_forward_kernel<T, O><<<row_blocks(rows), kThreads, 0, at::cuda::getCurrentCUDAStream()>>>(
          x.const_data_ptr<T>(), w.const_data_ptr<OAcc>(), y.mutable_data_ptr<O>(),
          inv.mutable_data_ptr<at::opmath_type<T>>(), rows, h, eps);
      C10_CUDA_KERNEL_LAUNCH_CHECK();
    });
  });
}

void rms_norm_backward_cuda_into(const at::Tensor& grad_y_in, const at::Tensor& x_in, const at::Tensor& weight,
                                 const at::Tensor& inv_in, at::Tensor& gx, at::Tensor& gw) {
  const c10::cuda::CUDAGuard guard(x_in.device());
  const auto x = x_in.contiguous();
  const auto grad_y = grad_y_in.contiguous();
  const auto inv = inv_in.contiguous();
  const int64_t h = x.size(-1), rows = rows_of(x);
  if (rows == 0 || h == 0) {
    gw.zero_();
    return;
  }
  const int64_t blocks = row_blocks(rows);
  const auto stream = at::cuda::getCurrentCUDAStream();
  AT_DISPATCH_FLOATING_TYPES_AND2(at::kBFloat16, at::kHalf, x.scalar_type(), "ctxext_rms_norm_backward_cuda", [&] {
    using T = scalar_t;
    with_output_type<T>(grad_y.scalar_type(), [&](auto o_tag) {
      using O = decltype(o_tag);
      using OAcc = at::opmath_type<O>;
      const auto acc = c10::CppTypeToScalarType<OAcc>::value;
      const at::Tensor w = weight.to(acc).contiguous();
      at::Tensor part = at::zeros({blocks, h}, x.options().dtype(acc));
      rms_norm_backward_kernel<T, O><<<blocks, kThreads, 0, stream>>>(
          grad_y.const_data_ptr<O>(), x.const_data_ptr<T>(), w.const_data_ptr<OAcc>(),
          inv.const_data_ptr<at::opmath_type<T>>(), gx.mutable_data_ptr<T>(), part.mutable_data_ptr<OAcc>(), rows, h);
      C10_CUDA_KERNEL_LAUNCH_CHECK();
      const int64_t col_blocks = std::max<int64_t>(1, std::min<int64_t>((h + kThreads - 1) / kThreads, 1024));
      sum_blocks_kernel<OAcc><<<col_blocks, kThreads, 0, stream>>>(part.const_data_ptr<OAcc>(), blocks, h,
                                                                    gw.mutable_data_ptr<OAcc>());
      C10_CUDA_KERNEL_LAUNCH_CHECK();
    });
  });
}

TORCH_LIBRARY_IMPL(ctxext, CUDA, m) {
  m.impl("rms_norm_forward", &rms_norm_forward_cuda);
  m.impl("rms_norm_backward", &rms_norm_backward_cuda);
}

}  // namespace ctxext::ops
