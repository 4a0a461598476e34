// CUDA kernel of `ctxext::rope` (forward, and backward via inverse = rotation by −angle).
// CPU reference: src/ops/rope_cpu.cpp. Same math: float32 (float64 for float64 x).
//
// Memory-bound: 2 reads + 2 writes of x per pair; cos/sin rows are shared by all heads of a token
// and stay in L1/L2. Each thread moves 16-byte packs (4 float32 / 8 bf16 or fp16 / 2 float64) of x
// when the row layout allows it, else single elements (halves) or single pairs (interleaved).
#include <ATen/Dispatch.h>
#include <ATen/OpMathType.h>
#include <ATen/core/Tensor.h>
#include <ATen/cuda/CUDAContext.h>
#include <ATen/ops/empty.h>
#include <c10/cuda/CUDAGuard.h>
#include <torch/library.h>

#include <algorithm>
#include <cstdint>

#include "ops/rope_kernels.h"

namespace ctxext::ops {

namespace {

template <typename T, int N>
struct alignas(sizeof(T) * N) Pack {
  T v[N];
};

// ---- kernels ------------------------------------------------------------------------------

// Halves layout. One thread = N consecutive i of one row, i.e. the packs at i and i + h.
// x, out: [rows, 2h]; cos, sin: [s, h]; scale: [s] or null
template <typename T, typename Acc, int N>
__global__ void rope_halves_kernel(const T* __restrict__ x, const Acc* __restrict__ cos, const Acc* __restrict__ sin,
                                   const Acc* __restrict__ scale, T* __restrict__ out, int64_t rows, int64_t s_len,
                                   int64_t n_h, int64_t h, Acc sign) {
  const int64_t packs_per_row = h / N;
  const int64_t total = rows * packs_per_row;
  for (int64_t t = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; t < total; t += int64_t(gridDim.x) * blockDim.x) {
    const int64_t row = t / packs_per_row;
    const int64_t i0 = (t - row * packs_per_row) * N;
    const int64_t pos = (row / n_h) % s_len;
    const Acc k = scale ? scale[pos] : Acc(1);
    const T* xr = x + row * 2 * h;
    T* orow = out + row * 2 * h;
    const auto a = *reinterpret_cast<const Pack<T, N>*>(xr + i0);
    const auto b = *reinterpret_cast<const Pack<T, N>*>(xr + h + i0);
    Pack<T, N> oa, ob;
#pragma unroll
    for (int j = 0; j < N; ++j) {
      const Acc c = cos[pos * h + i0 + j];
      const Acc sn = sign * sin[pos * h + i0 + j];
      const Acc av = static_cast<Acc>(a.v[j]);
      const Acc bv = static_cast<Acc>(b.v[j]);
      oa.v[j] = static_cast<T>((av * c - bv * sn) * k);
      ob.v[j] = static_cast<T>((bv * c + av * sn) * k);
    }
    *reinterpret_cast<Pack<T, N>*>(orow + i0) = oa;
    *reinterpret_cast<Pack<T, N>*>(orow + h + i0) = ob;
  }
}

// Interleaved layout. One thread = N consecutive elements of one row = N/2 pairs (N even).
// x, out: [rows, 2h]; cos, sin: [s, h]; scale: [s] or null
template <typename T, typename Acc, int N>
__global__ void rope_pairs_kernel(const T* __restrict__ x, const Acc* __restrict__ cos, const Acc* __restrict__ sin,
                                  const Acc* __restrict__ scale, T* __restrict__ out, int64_t rows, int64_t s_len,
                                  int64_t n_h, int64_t h, Acc sign) {
  const int64_t packs_per_row = 2 * h / N;
  const int64_t total = rows * packs_per_row;
  for (int64_t t = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; t < total; t += int64_t(gridDim.x) * blockDim.x) {
    const int64_t row = t / packs_per_row;
    const int64_t e0 = (t - row * packs_per_row) * N;
    const int64_t pos = (row / n_h) % s_len;
    const Acc k = scale ? scale[pos] : Acc(1);
    const auto v = *reinterpret_cast<const Pack<T, N>*>(x + row * 2 * h + e0);
    Pack<T, N> o;
#pragma unroll
    for (int j = 0; j < N / 2; ++j) {
      const int64_t i = e0 / 2 + j;
      const Acc c = cos[pos * h + i];
      const Acc sn = sign * sin[pos * h + i];
      const Acc av = static_cast<Acc>(v.v[2 * j]);
      const Acc bv = static_cast<Acc>(v.v[2 * j + 1]);
      o.v[2 * j] = static_cast<T>((av * c - bv * sn) * k);
      o.v[2 * j + 1] = static_cast<T>((bv * c + av * sn) * k);
    }
    *reinterpret_cast<Pack<T, N>*>(out + row * 2 * h + e0) = o;
  }
}

// ---- launchers ----------------------------------------------------------------------------

constexpr int kThreads = 256;

int64_t blocks_for(int64_t work) {
  // Enough blocks to fill the device several times over; the grid-stride loop covers the rest.
  const int64_t max_blocks = int64_t(at::cuda::getCurrentDeviceProperties()->multiProcessorCount) * 32;
  return std::max<int64_t>(1, std::min<int64_t>((work + kThreads - 1) / kThreads, max_blocks));
}

bool aligned16(const void* p) { return reinterpret_cast<uintptr_t>(p) % 16 == 0; }

template <typename T, typename Acc>
void launch(const T* x, const Acc* c, const Acc* s, const Acc* k, T* out, int64_t rows, int64_t s_len, int64_t n_h,
            int64_t h, bool interleaved, Acc sign) {
  constexpr int kPack = 16 / sizeof(T);
  const auto stream = at::cuda::getCurrentCUDAStream();
  const bool wide = aligned16(x) && aligned16(out);
  if (!interleaved) {
    if (wide && h % kPack == 0) {
      rope_halves_kernel<T, Acc, kPack><<<blocks_for(rows * h / kPack), kThreads, 0, stream>>>(x, c, s, k, out, rows,
                                                                                               s_len, n_h, h, sign);
    } else {
      rope_halves_kernel<T, Acc, 1><<<blocks_for(rows * h), kThreads, 0, stream>>>(x, c, s, k, out, rows, s_len, n_h, h,
                                                                                   sign);
    }
  } else {
    if (wide && (2 * h) % kPack == 0 && kPack % 2 == 0) {
      rope_pairs_kernel<T, Acc, kPack><<<blocks_for(rows * 2 * h / kPack), kThreads, 0, stream>>>(x, c, s, k, out, rows,
                                                                                                  s_len, n_h, h, sign);
    } else {
      rope_pairs_kernel<T, Acc, 2><<<blocks_for(rows * h), kThreads, 0, stream>>>(x, c, s, k, out, rows, s_len, n_h, h,
                                                                                  sign);
    }
  }
  C10_CUDA_KERNEL_LAUNCH_CHECK();
}

at::Tensor rope_cuda(const at::Tensor& x, const at::Tensor& cos, const at::Tensor& sin,
                     const std::optional<at::Tensor>& scale, bool interleaved, bool inverse) {
  check_rope_inputs(x, cos, sin, scale);
  auto out = at::empty(x.sizes(), x.options().memory_format(at::MemoryFormat::Contiguous));
  rope_cuda_into(x, cos, sin, scale, interleaved, inverse, out);
  return out;
}

}  // namespace

void rope_cuda_into(const at::Tensor& x_in, const at::Tensor& cos_in, const at::Tensor& sin_in,
                    const std::optional<at::Tensor>& scale_in, bool interleaved, bool inverse, at::Tensor& out) {
  const c10::cuda::CUDAGuard guard(x_in.device());
  const auto x = x_in.contiguous();
  const int64_t s_len = x.size(1), n_h = x.size(2), h = x.size(3) / 2;
  const int64_t rows = x.size(0) * s_len * n_h;
  if (rows == 0 || h == 0) return;
  AT_DISPATCH_FLOATING_TYPES_AND2(at::kBFloat16, at::kHalf, x.scalar_type(), "ctxext_rope_cuda", [&] {
    using Acc = at::opmath_type<scalar_t>;
    const auto acc_type = c10::CppTypeToScalarType<Acc>::value;
    const auto cos = cos_in.to(acc_type).contiguous();
    const auto sin = sin_in.to(acc_type).contiguous();
    const bool has_scale = scale_in && scale_in->defined();
    const auto scale = has_scale ? scale_in->to(acc_type).contiguous() : at::Tensor();
    launch<scalar_t, Acc>(x.const_data_ptr<scalar_t>(), cos.const_data_ptr<Acc>(), sin.const_data_ptr<Acc>(),
                          has_scale ? scale.const_data_ptr<Acc>() : nullptr, out.mutable_data_ptr<scalar_t>(), rows,
                          s_len, n_h, h, interleaved, inverse ? Acc(-1) : Acc(1));
  });
}

TORCH_LIBRARY_IMPL(ctxext, CUDA, m) { m.impl("rope", &rope_cuda); }

}  // namespace ctxext::ops
