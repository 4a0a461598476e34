// CUDA kernel of `ctxext::swiglu` (forward) and `ctxext::swiglu_backward`.
// CPU reference: src/ops/swiglu_cpu.cpp. Same math in float32 (float64 for float64 inputs); the
// sigmoid uses expf (full precision, not __expf), so CPU and CUDA agree to float32 rounding.
//
// Purely memory-bound: forward reads gate and up and writes out (3 passes); backward reads
// grad_out, gate, up and writes grad_gate, grad_up (5 passes). Each thread moves 16-byte packs
// (4 float32 / 8 bf16 or fp16 / 2 float64) when every pointer is 16-byte aligned; the tail that
// does not fill a pack (and misaligned views) go through the same kernel with 1-element packs.
#include <ATen/Dispatch.h>
#include <ATen/OpMathType.h>
#include <ATen/core/Tensor.h>
#include <ATen/cuda/CUDAContext.h>
#include <ATen/ops/empty.h>
#include <c10/cuda/CUDAGuard.h>
#include <torch/library.h>

#include <algorithm>
#include <cstdint>
#include <tuple>

#include "ops/swiglu_kernels.h"

namespace ctxext::ops {

namespace {

template <typename T, int N>
struct alignas(sizeof(T) * N) Pack {
  T v[N];
};

__device__ __forceinline__ float exp_acc(float x) { return expf(x); }
__device__ __forceinline__ double exp_acc(double x) { return exp(x); }

// ---- kernels ------------------------------------------------------------------------------

// out = g * u / (1 + exp(-g)). g, u, out: [n] (n counts elements; n % N == 0)
template <typename T, typename Acc, int N>
__global__ void swiglu_forward_kernel(const T* __restrict__ g, const T* __restrict__ u, T* __restrict__ out,
                                      int64_t n) {
  const int64_t packs = n / N;
  for (int64_t t = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; t < packs; t += int64_t(gridDim.x) * blockDim.x) {
    const auto gp = reinterpret_cast<const Pack<T, N>*>(g)[t];
    const auto up = reinterpret_cast<const Pack<T, N>*>(u)[t];
    Pack<T, N> o;
#pragma unroll
    for (int j = 0; j < N; ++j) {
      const Acc gv = static_cast<Acc>(gp.v[j]);
      o.v[j] = static_cast<T>(gv * static_cast<Acc>(up.v[j]) / (Acc(1) + exp_acc(-gv)));
    }
    reinterpret_cast<Pack<T, N>*>(out)[t] = o;
  }
}

// s = sigmoid(g); gg = go * u * s * (1 + g * (1 - s)); gu = go * g * s. All [n], n % N == 0.
template <typename T, typename Acc, int N>
__global__ void swiglu_backward_kernel(const T* __restrict__ go, const T* __restrict__ g, const T* __restrict__ u,
                                       T* __restrict__ gg, T* __restrict__ gu, int64_t n) {
  const int64_t packs = n / N;
  for (int64_t t = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; t < packs; t += int64_t(gridDim.x) * blockDim.x) {
    const auto gop = reinterpret_cast<const Pack<T, N>*>(go)[t];
    const auto gp = reinterpret_cast<const Pack<T, N>*>(g)[t];
    const auto up = reinterpret_cast<const Pack<T, N>*>(u)[t];
    Pack<T, N> ggp, gup;
#pragma unroll
    for (int j = 0; j < N; ++j) {
      const Acc gv = static_cast<Acc>(gp.v[j]);
      const Acc dv = static_cast<Acc>(gop.v[j]);
      const Acc s = Acc(1) / (Acc(1) + exp_acc(-gv));
      const Acc gs = gv * s;
      ggp.v[j] = static_cast<T>(dv * static_cast<Acc>(up.v[j]) * (s + gs * (Acc(1) - s)));
      gup.v[j] = static_cast<T>(dv * gs);
    }
    reinterpret_cast<Pack<T, N>*>(gg)[t] = ggp;
    reinterpret_cast<Pack<T, N>*>(gu)[t] = gup;
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
void launch_forward(const T* g, const T* u, T* out, int64_t n) {
  constexpr int kPack = 16 / sizeof(T);
  const auto stream = at::cuda::getCurrentCUDAStream();
  int64_t head = 0;
  if (aligned16(g) && aligned16(u) && aligned16(out)) {
    head = n / kPack * kPack;
    if (head > 0) {
      swiglu_forward_kernel<T, Acc, kPack><<<blocks_for(head / kPack), kThreads, 0, stream>>>(g, u, out, head);
      C10_CUDA_KERNEL_LAUNCH_CHECK();
    }
  }
  if (n > head) {
    swiglu_forward_kernel<T, Acc, 1><<<blocks_for(n - head), kThreads, 0, stream>>>(g + head, u + head, out + head,
                                                                                    n - head);
    C10_CUDA_KERNEL_LAUNCH_CHECK();
  }
}

template <typename T, typename Acc>
void launch_backward(const T* go, const T* g, const T* u, T* gg, T* gu, int64_t n) {
  constexpr int kPack = 16 / sizeof(T);
  const auto stream = at::cuda::getCurrentCUDAStream();
  int64_t head = 0;
  if (aligned16(go) && aligned16(g) && aligned16(u) && aligned16(gg) && aligned16(gu)) {
    head = n / kPack * kPack;
    if (head > 0) {
      swiglu_backward_kernel<T, Acc, kPack><<<blocks_for(head / kPack), kThreads, 0, stream>>>(go, g, u, gg, gu, head);
      C10_CUDA_KERNEL_LAUNCH_CHECK();
    }
  }
  if (n > head) {
    swiglu_backward_kernel<T, Acc, 1><<<blocks_for(n - head), kThreads, 0, stream>>>(
        go + head, g + head, u + head, gg + head, gu + head, n - head);
    C10_CUDA_KERNEL_LAUNCH_CHECK();
  }
}

at::Tensor swiglu_cuda(const at::Tensor& gate, const at::Tensor& up) {
  check_swiglu_inputs("ctxext::swiglu", gate, up);
  auto out = at::empty(gate.sizes(), gate.options().memory_format(at::MemoryFormat::Contiguous));
  swiglu_cuda_into(gate, up, out);
  return out;
}

std::tuple<at::Tensor, at::Tensor> swiglu_backward_cuda(const at::Tensor& grad_out, const at::Tensor& gate,
                                                        const at::Tensor& up) {
  check_swiglu_inputs("ctxext::swiglu_backward", gate, up, &grad_out);
  const auto options = gate.options().memory_format(at::MemoryFormat::Contiguous);
  auto grad_gate = at::empty(gate.sizes(), options);
  auto grad_up = at::empty(gate.sizes(), options);
  swiglu_backward_cuda_into(grad_out, gate, up, grad_gate, grad_up);
  return {grad_gate, grad_up};
}

}  // namespace

void swiglu_cuda_into(const at::Tensor& gate_in, const at::Tensor& up_in, at::Tensor& out) {
  const c10::cuda::CUDAGuard guard(gate_in.device());
  const auto gate = gate_in.contiguous();
  const auto up = up_in.contiguous();
  const int64_t n = gate.numel();
  if (n == 0) return;
  AT_DISPATCH_FLOATING_TYPES_AND2(at::kBFloat16, at::kHalf, gate.scalar_type(), "ctxext_swiglu_cuda", [&] {
    using Acc = at::opmath_type<scalar_t>;
    launch_forward<scalar_t, Acc>(gate.const_data_ptr<scalar_t>(), up.const_data_ptr<scalar_t>(),
                                  out.mutable_data_ptr<scalar_t>(), n);
  });
}

void swiglu_backward_cuda_into(const at::Tensor& grad_out_in, const at::Tensor& gate_in, const at::Tensor& up_in,
                               at::Tensor& grad_gate, at::Tensor& grad_up) {
  const c10::cuda::CUDAGuard guard(gate_in.device());
  const auto grad_out = grad_out_in.contiguous();
  const auto gate = gate_in.contiguous();
  const auto up = up_in.contiguous();
  const int64_t n = gate.numel();
  if (n == 0) return;
  AT_DISPATCH_FLOATING_TYPES_AND2(at::kBFloat16, at::kHalf, gate.scalar_type(), "ctxext_swiglu_backward_cuda", [&] {
    using Acc = at::opmath_type<scalar_t>;
    launch_backward<scalar_t, Acc>(grad_out.const_data_ptr<scalar_t>(), gate.const_data_ptr<scalar_t>(),
                                   up.const_data_ptr<scalar_t>(), grad_gate.mutable_data_ptr<scalar_t>(),
                                   grad_up.mutable_data_ptr<scalar_t>(), n);
  });
}

TORCH_LIBRARY_IMPL(ctxext, CUDA, m) {
  m.impl("swiglu", &swiglu_cuda);
  m.impl("swiglu_backward", &swiglu_backward_cuda);
}

}  // namespace ctxext::ops
