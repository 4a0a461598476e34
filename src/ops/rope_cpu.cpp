// CPU kernel of `ctxext::rope`: rows of h_d values, parallel over (b, s, n_h) rows with
// at::parallel_for; the inner loops are plain enough for the compiler to vectorise.
#include <ATen/OpMathType.h>
#include <ATen/Parallel.h>
#include <torch/library.h>
#include <torch/torch.h>

#include "ops/rope_kernels.h"

namespace ctxext::ops {

namespace {

// One row of halves layout: out[i] = a·c − b·s, out[i+h] = b·c + a·s, then × k.
// x_row, out_row: [2h]; c, s: [h]
template <typename T, typename Acc>
void rotate_halves(const T* __restrict x_row, const Acc* __restrict c, const Acc* __restrict s, Acc sign, Acc k,
                   int64_t h, T* __restrict out_row) {
  for (int64_t i = 0; i < h; ++i) {
    const Acc a = static_cast<Acc>(x_row[i]);
    const Acc b = static_cast<Acc>(x_row[i + h]);
    const Acc sn = sign * s[i];
    out_row[i] = static_cast<T>((a * c[i] - b * sn) * k);
    out_row[i + h] = static_cast<T>((b * c[i] + a * sn) * k);
  }
}

// One row of interleaved layout: pairs (2i, 2i+1). x_row, out_row: [2h]; c, s: [h]
template <typename T, typename Acc>
void rotate_pairs(const T* __restrict x_row, const Acc* __restrict c, const Acc* __restrict s, Acc sign, Acc k,
                  int64_t h, T* __restrict out_row) {
  for (int64_t i = 0; i < h; ++i) {
    const Acc a = static_cast<Acc>(x_row[2 * i]);
    const Acc b = static_cast<Acc>(x_row[2 * i + 1]);
    const Acc sn = sign * s[i];
    out_row[2 * i] = static_cast<T>((a * c[i] - b * sn) * k);
    out_row[2 * i + 1] = static_cast<T>((b * c[i] + a * sn) * k);
  }
}

at::Tensor rope_cpu(const at::Tensor& x, const at::Tensor& cos, const at::Tensor& sin,
                    const std::optional<at::Tensor>& scale, bool interleaved, bool inverse) {
  check_rope_inputs(x, cos, sin, scale);
  auto out = at::empty(x.sizes(), x.options().memory_format(at::MemoryFormat::Contiguous));
  rope_cpu_into(x, cos, sin, scale, interleaved, inverse, out);
  return out;
}

}  // namespace

void rope_cpu_into(const at::Tensor& x_in, const at::Tensor& cos_in, const at::Tensor& sin_in,
                   const std::optional<at::Tensor>& scale_in, bool interleaved, bool inverse, at::Tensor& out) {
  const auto x = x_in.contiguous();
  const int64_t s_len = x.size(1), n_h = x.size(2), h_d = x.size(3), h = h_d / 2;
  const int64_t rows = x.size(0) * s_len * n_h;
  AT_DISPATCH_FLOATING_TYPES_AND2(at::kBFloat16, at::kHalf, x.scalar_type(), "ctxext_rope_cpu", [&] {
    using Acc = at::opmath_type<scalar_t>;
    const auto acc_type = c10::CppTypeToScalarType<Acc>::value;
    const auto cos = cos_in.to(acc_type).contiguous();
    const auto sin = sin_in.to(acc_type).contiguous();
    const bool has_scale = scale_in && scale_in->defined();
    const auto scale = has_scale ? scale_in->to(acc_type).contiguous() : at::Tensor();
    const scalar_t* xp = x.const_data_ptr<scalar_t>();
    const Acc* cp = cos.const_data_ptr<Acc>();
    const Acc* sp = sin.const_data_ptr<Acc>();
    const Acc* kp = has_scale ? scale.const_data_ptr<Acc>() : nullptr;
    scalar_t* op = out.mutable_data_ptr<scalar_t>();
    const Acc sign = inverse ? Acc(-1) : Acc(1);
    const int64_t grain = std::max<int64_t>(1, at::internal::GRAIN_SIZE / std::max<int64_t>(h_d, 1));
    at::parallel_for(0, rows, grain, [&](int64_t begin, int64_t end) {
      for (int64_t r = begin; r < end; ++r) {
        const int64_t pos = (r / n_h) % s_len;
        const Acc k = kp ? kp[pos] : Acc(1);
        if (interleaved) {
          rotate_pairs(xp + r * h_d, cp + pos * h, sp + pos * h, sign, k, h, op + r * h_d);
        } else {
          rotate_halves(xp + r * h_d, cp + pos * h, sp + pos * h, sign, k, h, op + r * h_d);
        }
      }
    });
  });
}

TORCH_LIBRARY_IMPL(ctxext, CPU, m) { m.impl("rope", &rope_cpu); }

}  // namespace ctxext::ops
