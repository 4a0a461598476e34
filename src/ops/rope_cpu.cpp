// CPU kernels of `ctxext::rope` and `ctxext::rope_qk`: rows of h_d values, parallel over
// (b, s, n_h) rows with at::parallel_for (rope_qk: one loop over q's rows then k's); the inner loops
// are plain enough for the compiler to vectorise.
#include <ATen/OpMathType.h>
#include <ATen/Parallel.h>
#include <torch/library.h>
#include <torch/torch.h>

#include <array>
#include <cstdint>
#include <type_traits>

#include "ops/bf16_bits.h"
#include "ops/rope_kernels.h"

namespace ctxext::ops {

namespace {

// x_row and out_row are not __restrict: the in-place variant passes the same row. Each index is
// read before it is written, by the same iteration, so the rotation is exact in place.

// One row of halves layout: out[i] = a·c − b·s, out[i+h] = b·c + a·s, then × k.
// x_row, out_row: [2h]; c, s: [h]
template <typename T, typename Acc>
void rotate_halves(const T* x_row, const Acc* __restrict c, const Acc* __restrict s, Acc sign, Acc k, int64_t h,
                   T* out_row) {
  for (int64_t i = 0; i < h; ++i) {
    const Acc a = static_cast<Acc>(x_row[i]);
    const Acc b = static_cast<Acc>(x_row[i + h]);
    const Acc sn = sign * s[i];
    out_row[i] = static_cast<T>((a * c[i] - b * sn) * k);
    out_row[i + h] = static_cast<T>((b * c[i] + a * sn) * k);
  }
}

// The halves rotation for float32 and for bfloat16 on the bits (float32 math, rounded once on the way
// out, as the template does), compiled for x86-64-v4 (AVX-512), v3 (AVX2, FMA) and the baseline with
// one picked at load time; the v3/v4 clones may fuse a·c − b·s into an FMA, so their last bit can differ
// from a baseline build's (every path on one machine runs the same clone: rope_qk == rope_qk_ bitwise). `ivdep`: x_row and out_row may be the same row (in place), which blocks the
// compiler's own proof; iteration i touches only elements i and i + h, read before written.
#define CTXEXT_ROPE_CLONES \
  __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default"), optimize("no-trapping-math")))

CTXEXT_ROPE_CLONES
void rotate_halves_f32(const float* x_row, const float* __restrict c, const float* __restrict s, float sign, float k,
                       int64_t h, float* out_row) {
#pragma GCC ivdep
  for (int64_t i = 0; i < h; ++i) {
    const float a = x_row[i];
    const float b = x_row[i + h];
    const float sn = sign * s[i];
    out_row[i] = (a * c[i] - b * sn) * k;
    out_row[i + h] = (b * c[i] + a * sn) * k;
  }
}

CTXEXT_ROPE_CLONES
void rotate_halves_bf16(const uint16_t* x_row, const float* __restrict c, const float* __restrict s, float sign,
                        float k, int64_t h, uint16_t* out_row) {
#pragma GCC ivdep
  for (int64_t i = 0; i < h; ++i) {
    const float a = bf16_bits_to_float(x_row[i]);
    const float b = bf16_bits_to_float(x_row[i + h]);
    const float sn = sign * s[i];
    out_row[i] = float_to_bf16_bits((a * c[i] - b * sn) * k);
    out_row[i + h] = float_to_bf16_bits((b * c[i] + a * sn) * k);
  }
}

// One row of halves layout for the other dtypes (float64, float16): the plain template.
template <typename T, typename Acc>
void rotate_halves_any(const T* x_row, const Acc* c, const Acc* s, Acc sign, Acc k, int64_t h, T* out_row) {
  if constexpr (std::is_same_v<T, float>) {
    rotate_halves_f32(x_row, c, s, sign, k, h, out_row);
  } else if constexpr (std::is_same_v<T, c10::BFloat16>) {
    rotate_halves_bf16(reinterpret_cast<const uint16_t*>(x_row), c, s, sign, k, h,
                       reinterpret_cast<uint16_t*>(out_row));
  } else {
    rotate_halves(x_row, c, s, sign, k, h, out_row);
  }
}

// One row of interleaved layout: pairs (2i, 2i+1). x_row, out_row: [2h]; c, s: [h]
template <typename T, typename Acc>
void rotate_pairs(const T* x_row, const Acc* __restrict c, const Acc* __restrict s, Acc sign, Acc k, int64_t h,
                  T* out_row) {
  for (int64_t i = 0; i < h; ++i) {
    const Acc a = static_cast<Acc>(x_row[2 * i]);
    const Acc b = static_cast<Acc>(x_row[2 * i + 1]);
    const Acc sn = sign * s[i];
    out_row[2 * i] = static_cast<T>((a * c[i] - b * sn) * k);
    out_row[2 * i + 1] = static_cast<T>((b * c[i] + a * sn) * k);
  }
}

// One rotated tensor of the loop: x (contiguous), its output, its optional per-position scale.
struct Segment {
  at::Tensor x, out;
  std::optional<at::Tensor> scale;
};

// Rotates every segment's rows in one at::parallel_for. All segments share b, s, h_d and dtype.
template <size_t N>
void rotate_segments(std::array<Segment, N>& segs, const at::Tensor& cos_in, const at::Tensor& sin_in,
                     bool interleaved, bool inverse) {
  const at::Tensor& first = segs[0].x;
  const int64_t s_len = first.size(1), h_d = first.size(3), h = h_d / 2;
  AT_DISPATCH_FLOATING_TYPES_AND2(at::kBFloat16, at::kHalf, first.scalar_type(), "ctxext_rope_cpu", [&] {
    using Acc = at::opmath_type<scalar_t>;
    const auto acc_type = c10::CppTypeToScalarType<Acc>::value;
    const auto cos = cos_in.to(acc_type).contiguous();
    const auto sin = sin_in.to(acc_type).contiguous();
    const Acc* cp = cos.const_data_ptr<Acc>();
    const Acc* sp = sin.const_data_ptr<Acc>();
    struct Rows {
      const scalar_t* x;
      scalar_t* out;
      const Acc* k;
      int64_t n_h, end;  // end: one past the segment's last row in the joint row index
    };
    std::array<Rows, N> rows;
    std::array<at::Tensor, N> scales;  // keeps the float32 copies alive through the loop
    int64_t total = 0;
    for (size_t i = 0; i < N; ++i) {
      const bool has_scale = segs[i].scale && segs[i].scale->defined();
      if (has_scale) scales[i] = segs[i].scale->to(acc_type).contiguous();
      total += segs[i].x.size(0) * s_len * segs[i].x.size(2);
      rows[i] = {segs[i].x.template const_data_ptr<scalar_t>(), segs[i].out.template mutable_data_ptr<scalar_t>(),
                 has_scale ? scales[i].template const_data_ptr<Acc>() : nullptr, segs[i].x.size(2), total};
    }
    const Acc sign = inverse ? Acc(-1) : Acc(1);
    const int64_t grain = std::max<int64_t>(1, at::internal::GRAIN_SIZE / std::max<int64_t>(h_d, 1));
    at::parallel_for(0, total, grain, [&](int64_t begin, int64_t end) {
      size_t seg = 0;
      for (int64_t j = begin; j < end; ++j) {
        while (j >= rows[seg].end) ++seg;
        const Rows& g = rows[seg];
        const int64_t r = j - (seg == 0 ? 0 : rows[seg - 1].end);
        const int64_t pos = (r / g.n_h) % s_len;
        const Acc k = g.k ? g.k[pos] : Acc(1);
        if (interleaved) {
          rotate_pairs(g.x + r * h_d, cp + pos * h, sp + pos * h, sign, k, h, g.out + r * h_d);
        } else {
          rotate_halves_any(g.x + r * h_d, cp + pos * h, sp + pos * h, sign, k, h, g.out + r * h_d);
        }
      }
    });
  });
}

}  // namespace

void rope_cpu_into(const at::Tensor& x, const at::Tensor& cos, const at::Tensor& sin,
                   const std::optional<at::Tensor>& scale, bool interleaved, bool inverse, at::Tensor& out) {
  std::array<Segment, 1> segs{Segment{x.contiguous(), out, scale}};
  rotate_segments(segs, cos, sin, interleaved, inverse);
}

void rope_qk_cpu_into(const at::Tensor& q, const at::Tensor& k, const at::Tensor& cos, const at::Tensor& sin,
                      const std::optional<at::Tensor>& q_scale, bool interleaved, bool inverse, at::Tensor& q_out,
                      at::Tensor& k_out) {
  std::array<Segment, 2> segs{Segment{q.contiguous(), q_out, q_scale}, Segment{k.contiguous(), k_out, std::nullopt}};
  rotate_segments(segs, cos, sin, interleaved, inverse);
}

TORCH_LIBRARY_IMPL(ctxext, CPU, m) {
  m.impl("rope", &rope_kernel<rope_cpu_into>);
  m.impl("rope_qk", &rope_qk_kernel<rope_qk_cpu_into>);
  m.impl("rope_qk_", &rope_qk_inplace_kernel<rope_qk_cpu_into>);
}

}  // namespace ctxext::ops
