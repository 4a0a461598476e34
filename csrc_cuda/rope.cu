// CUDA kernel of `ctxext::rope` and `ctxext::rope_qk` (forward, and backward via inverse = rotation
// by −angle; rope_qk: q and k in one launch). CPU reference: src/ops/rope_cpu.cpp. Same math:
// float32 (float64 for float64 x).
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

// Up to two rotated tensors per launch (rope: x; rope_qk: q then k). Rows of all segments share
// s, h and the tables; `out` may equal `x` (the in-place variant), hence no __restrict__ on them:
// each thread reads its packs before it writes the same packs.
template <typename T, typename Acc>
struct Segments {
  const T* x[2];
  T* out[2];
  const Acc* scale[2];  // per position, or null
  int64_t n_h[2];
  int64_t rows0;  // rows of segment 0; the joint row index continues into segment 1
};

// Which segment joint row `row` belongs to, and its row inside that segment.
template <typename T, typename Acc>
__device__ __forceinline__ int segment_of(const Segments<T, Acc>& g, int64_t& row) {
  if (row < g.rows0) return 0;
  row -= g.rows0;
  return 1;
}

// Halves layout. One thread = N consecutive i of one row, i.e. the packs at i and i + h.
// x, out: [rows, 2h]; cos, sin: [s, h]; scale: [s] or null
template <typename T, typename Acc, int N>
__global__ void rope_halves_kernel(Segments<T, Acc> g, const Acc* __restrict__ cos, const Acc* __restrict__ sin,
                                   int64_t rows, int64_t s_len, int64_t h, Acc sign) {
  const int64_t packs_per_row = h / N;
  const int64_t total = rows * packs_per_row;
  for (int64_t t = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; t < total; t += int64_t(gridDim.x) * blockDim.x) {
    int64_t row = t / packs_per_row;
    const int64_t i0 = (t - row * packs_per_row) * N;
    const int seg = segment_of(g, row);
    const int64_t pos = (row / g.n_h[seg]) % s_len;
    const Acc k = g.scale[seg] ? g.scale[seg][pos] : Acc(1);
    const T* xr = g.x[seg] + row * 2 * h;
    T* orow = g.out[seg] + row * 2 * h;
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
__global__ void rope_pairs_kernel(Segments<T, Acc> g, const Acc* __restrict__ cos, const Acc* __restrict__ sin,
                                  int64_t rows, int64_t s_len, int64_t h, Acc sign) {
  const int64_t packs_per_row = 2 * h / N;
  const int64_t total = rows * packs_per_row;
  for (int64_t t = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; t < total; t += int64_t(gridDim.x) * blockDim.x) {
    int64_t row = t / packs_per_row;
    const int64_t e0 = (t - row * packs_per_row) * N;
    const int seg = segment_of(g, row);
    const int64_t pos = (row / g.n_h[seg]) % s_len;
    const Acc k = g.scale[seg] ? g.scale[seg][pos] : Acc(1);
    const auto v = *reinterpret_cast<const Pack<T, N>*>(g.x[seg] + row * 2 * h + e0);
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
    *reinterpret_cast<Pack<T, N>*>(g.out[seg] + row * 2 * h + e0) = o;
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

// One launch over `rows` joint rows of both segments.
template <typename T, typename Acc>
void launch(const Segments<T, Acc>& g, const Acc* c, const Acc* s, int64_t rows, int64_t s_len, int64_t h,
            bool interleaved, Acc sign) {
  constexpr int kPack = 16 / sizeof(T);
  const auto stream = at::cuda::getCurrentCUDAStream();
  const bool wide = aligned16(g.x[0]) && aligned16(g.out[0]) && aligned16(g.x[1]) && aligned16(g.out[1]);
  if (!interleaved) {
    if (wide && h % kPack == 0) {
      rope_halves_kernel<T, Acc, kPack><<<blocks_for(rows * h / kPack), kThreads, 0, stream>>>(g, c, s, rows, s_len,
                                                                                               h, sign);
    } else {
      rope_halves_kernel<T, Acc, 1><<<blocks_for(rows * h), kThreads, 0, stream>>>(g, c, s, rows, s_len, h, sign);
    }
  } else {
    if (wide && (2 * h) % kPack == 0 && kPack % 2 == 0) {
      rope_pairs_kernel<T, Acc, kPack><<<blocks_for(rows * 2 * h / kPack), kThreads, 0, stream>>>(g, c, s, rows,
                                                                                                  s_len, h, sign);
    } else {
      rope_pairs_kernel<T, Acc, 2><<<blocks_for(rows * h), kThreads, 0, stream>>>(g, c, s, rows, s_len, h, sign);
    }
  }
  C10_CUDA_KERNEL_LAUNCH_CHECK();
}

// Rotates x0 into out0 and, when x1 is defined, x1 into out1, in one launch. All share b, s, h_d
// and dtype; only x0 may carry a scale.
void rotate_into(const at::Tensor& x0_in, const std::optional<at::Tensor>& scale_in, at::Tensor& out0,
                 const at::Tensor& x1_in, at::Tensor& out1, const at::Tensor& cos_in, const at::Tensor& sin_in,
                 bool interleaved, bool inverse) {
  const c10::cuda::CUDAGuard guard(x0_in.device());
  const auto x0 = x0_in.contiguous();
  const auto x1 = x1_in.defined() ? x1_in.contiguous() : at::Tensor();
  const int64_t s_len = x0.size(1), h = x0.size(3) / 2;
  const int64_t rows0 = x0.size(0) * s_len * x0.size(2);
  const int64_t rows1 = x1.defined() ? x1.size(0) * s_len * x1.size(2) : 0;
  if (rows0 + rows1 == 0 || h == 0) return;
  AT_DISPATCH_FLOATING_TYPES_AND2(at::kBFloat16, at::kHalf, x0.scalar_type(), "ctxext_rope_cuda", [&] {
    using Acc = at::opmath_type<scalar_t>;
    const auto acc_type = c10::CppTypeToScalarType<Acc>::value;
    const auto cos = cos_in.to(acc_type).contiguous();
    const auto sin = sin_in.to(acc_type).contiguous();
    const bool has_scale = scale_in && scale_in->defined();
    const auto scale = has_scale ? scale_in->to(acc_type).contiguous() : at::Tensor();
    Segments<scalar_t, Acc> g{};
    g.x[0] = x0.const_data_ptr<scalar_t>();
    g.out[0] = out0.mutable_data_ptr<scalar_t>();
    g.scale[0] = has_scale ? scale.const_data_ptr<Acc>() : nullptr;
    g.n_h[0] = x0.size(2);
    g.rows0 = rows0;
    // An absent second segment repeats the first's pointers (never reached: rows1 = 0), so the
    // alignment test sees only real pointers.
    g.x[1] = x1.defined() ? x1.const_data_ptr<scalar_t>() : g.x[0];
    g.out[1] = x1.defined() ? out1.mutable_data_ptr<scalar_t>() : g.out[0];
    g.scale[1] = nullptr;
    g.n_h[1] = x1.defined() ? x1.size(2) : 1;
    launch<scalar_t, Acc>(g, cos.const_data_ptr<Acc>(), sin.const_data_ptr<Acc>(), rows0 + rows1, s_len, h,
                          interleaved, inverse ? Acc(-1) : Acc(1));
  });
}

}  // namespace

void rope_cuda_into(const at::Tensor& x, const at::Tensor& cos, const at::Tensor& sin,
                    const std::optional<at::Tensor>& scale, bool interleaved, bool inverse, at::Tensor& out) {
  at::Tensor none;
  rotate_into(x, scale, out, at::Tensor(), none, cos, sin, interleaved, inverse);
}

void rope_qk_cuda_into(const at::Tensor& q, const at::Tensor& k, const at::Tensor& cos, const at::Tensor& sin,
                       const std::optional<at::Tensor>& q_scale, bool interleaved, bool inverse, at::Tensor& q_out,
                       at::Tensor& k_out) {
  rotate_into(q, q_scale, q_out, k, k_out, cos, sin, interleaved, inverse);
}

TORCH_LIBRARY_IMPL(ctxext, CUDA, m) {
  m.impl("rope", &rope_kernel<rope_cuda_into>);
  m.impl("rope_qk", &rope_qk_kernel<rope_qk_cuda_into>);
  m.impl("rope_qk_", &rope_qk_inplace_kernel<rope_qk_cuda_into>);
}

}  // namespace ctxext::ops
