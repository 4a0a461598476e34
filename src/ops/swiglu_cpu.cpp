// CPU kernel of `ctxext::swiglu` and its backward: one pass over flat contiguous buffers,
// parallel over blocks with at::parallel_for.
//
// float32: the inner loops use a branch-free exp (Cephes polynomial, ~1 ulp on [-88, 88]) so
// GCC vectorises them; target_clones compiles them for AVX-512, AVX2 and the baseline and picks
// one at load time. bfloat16: the same loops with each element widened on the bits and rounded
// once on the way out (ops/bf16_bits.h), one pass. float16: each block is widened to float32 on the
// stack, run through the float32 loops and rounded once. float64: plain loops with std::exp.
#include <ATen/Parallel.h>
#include <torch/library.h>
#include <torch/torch.h>

#include <cmath>
#include <cstdint>
#include <cstring>

#include "ops/bf16_bits.h"
#include "ops/swiglu_kernels.h"

namespace ctxext::ops {

namespace {

// exp(x) for float, branch-free. Inputs are clamped to [-87, 88] so that 2^n stays a normal float
// (exp(-87) ~ 1.6e-38, exp(88) ~ 1.7e38): silu(g) for g < -88 is then g / (1 + 1.7e38) instead
// of g * exp(g), an absolute error below |g| * 6e-39; for g > 87, 1 + exp(-g) is 1 either way. A NaN
// input may come out as any value here; every caller multiplies by the input itself, so a NaN gate
// still gives a NaN result.
[[gnu::always_inline, gnu::optimize("no-trapping-math")]] inline float fast_exp(float x) {
  x = x < 88.0f ? x : 88.0f;
  x = x > -87.0f ? x : -87.0f;
  // n = round(x / ln 2) through the 1.5·2^23 trick (no floor/round instruction needed).
  const float shifter = 12582912.0f;
  const float n = (x * 1.44269504088896341f + shifter) - shifter;
  float r = x - n * 0.693359375f;
  r = r - n * -2.12194440e-4f;
  // Cephes expf polynomial on |r| <= ln2/2.
  float p = 1.9875691500e-4f;
  p = p * r + 1.3981999507e-3f;
  p = p * r + 8.3334519073e-3f;
  p = p * r + 4.1665795894e-2f;
  p = p * r + 1.6666665459e-1f;
  p = p * r + 5.0000001201e-1f;
  p = p * r * r + r + 1.0f;
  const int32_t bits = (static_cast<int32_t>(n) + 127) << 23;
  float scale;
  std::memcpy(&scale, &bits, sizeof(scale));
  return p * scale;
}

// The math loops, compiled for x86-64-v4 (AVX-512), v3 (AVX2, FMA) and the baseline, one picked at
// load time. no-trapping-math lets GCC if-convert the clamps in fast_exp (it only assumes FP exceptions
// do not trap); finite-math-only and no-signed-zeros let it turn them into min/max instructions (a
// compare-and-select of a known constant made it compute the division twice, once per branch). No loop
// tests for NaN; a NaN gate still reaches the output through the products.
// Do not add a NaN or inf test inside these loops: finite-math-only folds it away.
#define CTXEXT_SWIGLU_MATH_CLONES                                                \
  __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default"), \
                 optimize("no-trapping-math", "finite-math-only", "no-signed-zeros")))

// out[i] = g[i] * u[i] / (1 + exp(-g[i]))
CTXEXT_SWIGLU_MATH_CLONES
void forward_f32(const float* __restrict g, const float* __restrict u, float* __restrict out, int64_t n) {
  for (int64_t i = 0; i < n; ++i) {
    const float gi = g[i];
    out[i] = gi * u[i] / (1.0f + fast_exp(-gi));
  }
}

// s = sigmoid(g); grad_g = go * u * s * (1 + g * (1 - s)); grad_u = go * g * s
CTXEXT_SWIGLU_MATH_CLONES
void backward_f32(const float* __restrict go, const float* __restrict g, const float* __restrict u,
                  float* __restrict gg, float* __restrict gu, int64_t n) {
  for (int64_t i = 0; i < n; ++i) {
    const float gi = g[i];
    const float s = 1.0f / (1.0f + fast_exp(-gi));
    const float gs = gi * s;
    gg[i] = go[i] * u[i] * (s + gs * (1.0f - s));
    gu[i] = go[i] * gs;
  }
}

// bfloat16 in one pass: each element widened on the bits, the float32 math above, rounded once.
CTXEXT_SWIGLU_MATH_CLONES
void forward_bf16(const uint16_t* __restrict g, const uint16_t* __restrict u, uint16_t* __restrict out, int64_t n) {
  for (int64_t i = 0; i < n; ++i) {
    const float gi = bf16_bits_to_float(g[i]);
    out[i] = float_to_bf16_bits(gi * bf16_bits_to_float(u[i]) / (1.0f + fast_exp(-gi)));
  }
}

CTXEXT_SWIGLU_MATH_CLONES
void backward_bf16(const uint16_t* __restrict go, const uint16_t* __restrict g, const uint16_t* __restrict u,
                   uint16_t* __restrict gg, uint16_t* __restrict gu, int64_t n) {
  for (int64_t i = 0; i < n; ++i) {
    const float gi = bf16_bits_to_float(g[i]);
    const float goi = bf16_bits_to_float(go[i]);
    const float s = 1.0f / (1.0f + fast_exp(-gi));
    const float gs = gi * s;
    gg[i] = float_to_bf16_bits(goi * bf16_bits_to_float(u[i]) * (s + gs * (1.0f - s)));
    gu[i] = float_to_bf16_bits(goi * gs);
  }
}

void forward_f64(const double* g, const double* u, double* out, int64_t n) {
  for (int64_t i = 0; i < n; ++i) out[i] = g[i] * u[i] / (1.0 + std::exp(-g[i]));
}

void backward_f64(const double* go, const double* g, const double* u, double* gg, double* gu, int64_t n) {
  for (int64_t i = 0; i < n; ++i) {
    const double s = 1.0 / (1.0 + std::exp(-g[i]));
    const double gs = g[i] * s;
    gg[i] = go[i] * u[i] * (s + gs * (1.0 - s));
    gu[i] = go[i] * gs;
  }
}

// Elements per parallel_for task, and per stack block of the float16 path.
constexpr int64_t kGrain = 1 << 14;
constexpr int64_t kBlock = 1024;

// float16 <-> float32 for the block path (bfloat16 has its own one-pass loops above).
template <typename T>
void widen(const T* src, float* dst, int64_t n) {
  for (int64_t i = 0; i < n; ++i) dst[i] = static_cast<float>(src[i]);
}

template <typename T>
void narrow(const float* src, T* dst, int64_t n) {
  for (int64_t i = 0; i < n; ++i) dst[i] = static_cast<T>(src[i]);
}

template <typename T>
void forward_any(const T* g, const T* u, T* out, int64_t n) {
  if constexpr (std::is_same_v<T, float>) {
    at::parallel_for(0, n, kGrain, [&](int64_t b, int64_t e) { forward_f32(g + b, u + b, out + b, e - b); });
  } else if constexpr (std::is_same_v<T, double>) {
    at::parallel_for(0, n, kGrain, [&](int64_t b, int64_t e) { forward_f64(g + b, u + b, out + b, e - b); });
  } else if constexpr (std::is_same_v<T, c10::BFloat16>) {
    const auto* gb = reinterpret_cast<const uint16_t*>(g);
    const auto* ub = reinterpret_cast<const uint16_t*>(u);
    auto* ob = reinterpret_cast<uint16_t*>(out);
    at::parallel_for(0, n, kGrain, [&](int64_t b, int64_t e) { forward_bf16(gb + b, ub + b, ob + b, e - b); });
  } else {
    at::parallel_for(0, n, kGrain, [&](int64_t b, int64_t e) {
      alignas(64) float gf[kBlock], uf[kBlock], of[kBlock];
      for (int64_t i = b; i < e; i += kBlock) {
        const int64_t m = std::min(kBlock, e - i);
        widen(g + i, gf, m);
        widen(u + i, uf, m);
        forward_f32(gf, uf, of, m);
        narrow(of, out + i, m);
      }
    });
  }
}

template <typename T>
void backward_any(const T* go, const T* g, const T* u, T* gg, T* gu, int64_t n) {
  if constexpr (std::is_same_v<T, float>) {
    at::parallel_for(0, n, kGrain,
                     [&](int64_t b, int64_t e) { backward_f32(go + b, g + b, u + b, gg + b, gu + b, e - b); });
  } else if constexpr (std::is_same_v<T, double>) {
    at::parallel_for(0, n, kGrain,
                     [&](int64_t b, int64_t e) { backward_f64(go + b, g + b, u + b, gg + b, gu + b, e - b); });
  } else if constexpr (std::is_same_v<T, c10::BFloat16>) {
    const auto bits = [](const T* p) { return reinterpret_cast<const uint16_t*>(p); };
    const auto bits_out = [](T* p) { return reinterpret_cast<uint16_t*>(p); };
    at::parallel_for(0, n, kGrain, [&](int64_t b, int64_t e) {
      backward_bf16(bits(go) + b, bits(g) + b, bits(u) + b, bits_out(gg) + b, bits_out(gu) + b, e - b);
    });
  } else {
    at::parallel_for(0, n, kGrain, [&](int64_t b, int64_t e) {
      alignas(64) float gof[kBlock], gf[kBlock], uf[kBlock], ggf[kBlock], guf[kBlock];
      for (int64_t i = b; i < e; i += kBlock) {
        const int64_t m = std::min(kBlock, e - i);
        widen(go + i, gof, m);
        widen(g + i, gf, m);
        widen(u + i, uf, m);
        backward_f32(gof, gf, uf, ggf, guf, m);
        narrow(ggf, gg + i, m);
        narrow(guf, gu + i, m);
      }
    });
  }
}

}  // namespace

void swiglu_cpu_into(const at::Tensor& gate_in, const at::Tensor& up_in, at::Tensor& out) {
  const auto gate = gate_in.contiguous();
  const auto up = up_in.contiguous();
  const int64_t n = gate.numel();
  if (n == 0) return;
  AT_DISPATCH_FLOATING_TYPES_AND2(at::kBFloat16, at::kHalf, gate.scalar_type(), "ctxext_swiglu_cpu", [&] {
    forward_any<scalar_t>(gate.const_data_ptr<scalar_t>(), up.const_data_ptr<scalar_t>(),
                          out.mutable_data_ptr<scalar_t>(), n);
  });
}

void swiglu_backward_cpu_into(const at::Tensor& grad_out_in, const at::Tensor& gate_in, const at::Tensor& up_in,
                              at::Tensor& grad_gate, at::Tensor& grad_up) {
  const auto grad_out = grad_out_in.contiguous();
  const auto gate = gate_in.contiguous();
  const auto up = up_in.contiguous();
  const int64_t n = gate.numel();
  if (n == 0) return;
  AT_DISPATCH_FLOATING_TYPES_AND2(at::kBFloat16, at::kHalf, gate.scalar_type(), "ctxext_swiglu_backward_cpu", [&] {
    backward_any<scalar_t>(grad_out.const_data_ptr<scalar_t>(), gate.const_data_ptr<scalar_t>(),
                           up.const_data_ptr<scalar_t>(), grad_gate.mutable_data_ptr<scalar_t>(),
                           grad_up.mutable_data_ptr<scalar_t>(), n);
  });
}

}  // namespace ctxext::ops
