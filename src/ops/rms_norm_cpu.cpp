// CPU kernel of `ctxext::rms_norm`: at::parallel_for over rows. Forward: one read of x for the
// sum of squares (8 independent lanes, so the compiler vectorises it), one read + one write for y.
// Backward: per row a dot product and one pass writing grad_x; grad_weight is accumulated per
// chunk of rows (a fixed split, one chunk per thread) and the chunks are summed in order, so the
// result does not depend on scheduling.
#include <ATen/OpMathType.h>
#include <ATen/Parallel.h>
#include <torch/library.h>
#include <torch/torch.h>

#include <cmath>

#include "ops/rms_norm_kernels.h"

namespace ctxext::ops {

namespace {

constexpr int kLanes = 8;

// sum_i a[i] * b[i] over n values in Acc, 8 lanes then the tail. a, b: [n]
template <typename Acc, typename LoadA, typename LoadB>
Acc lane_dot(int64_t n, LoadA a, LoadB b) {
  Acc lanes[kLanes] = {};
  int64_t i = 0;
  for (; i + kLanes <= n; i += kLanes) {
    for (int j = 0; j < kLanes; ++j) lanes[j] += a(i + j) * b(i + j);
  }
  Acc total = ((lanes[0] + lanes[1]) + (lanes[2] + lanes[3])) + ((lanes[4] + lanes[5]) + (lanes[6] + lanes[7]));
  for (; i < n; ++i) total += a(i) * b(i);
  return total;
}

template <typename T, typename O>
void forward_rows(const T* __restrict x, const at::opmath_type<O>* __restrict w, O* __restrict y,
                  at::opmath_type<T>* __restrict inv, int64_t rows, int64_t h, double eps) {
  using Acc = at::opmath_type<T>;
  using OAcc = at::opmath_type<O>;
  const int64_t grain = std::max<int64_t>(1, at::internal::GRAIN_SIZE / std::max<int64_t>(h, 1));
  at::parallel_for(0, rows, grain, [&](int64_t begin, int64_t end) {
    for (int64_t r = begin; r < end; ++r) {
      const T* __restrict xr = x + r * h;
      O* __restrict yr = y + r * h;
      const auto load = [xr](int64_t i) { return static_cast<Acc>(xr[i]); };
      const Acc ss = lane_dot<Acc>(h, load, load);
      const Acc rr = Acc(1) / std::sqrt(ss / static_cast<Acc>(h) + static_cast<Acc>(eps));
      inv[r] = rr;
      for (int64_t i = 0; i < h; ++i) {
        const T n = static_cast<T>(static_cast<Acc>(xr[i]) * rr);  // HF: .to(input_dtype)
        yr[i] = static_cast<O>(w[i] * static_cast<OAcc>(n));
      }
    }
  });
}

// grad_w_part: [chunks, h] zeroed, OAcc
template <typename T, typename O>
void backward_rows(const O* __restrict gy, const T* __restrict x, const at::opmath_type<O>* __restrict w,
                   const at::opmath_type<T>* __restrict inv, T* __restrict gx, at::opmath_type<O>* __restrict gw_part,
                   int64_t chunks, int64_t rows, int64_t h) {
  using Acc = at::opmath_type<T>;
  using OAcc = at::opmath_type<O>;
  const int64_t per_chunk = (rows + chunks - 1) / chunks;
  at::parallel_for(0, chunks, 1, [&](int64_t c_begin, int64_t c_end) {
    for (int64_t c = c_begin; c < c_end; ++c) {
      OAcc* __restrict part = gw_part + c * h;
      const int64_t r_end = std::min(rows, (c + 1) * per_chunk);
      for (int64_t r = c * per_chunk; r < r_end; ++r) {
        const O* __restrict gyr = gy + r * h;
        const T* __restrict xr = x + r * h;
        T* __restrict gxr = gx + r * h;
        const Acc rr = inv[r];
        // As autograd of the composition: the gradient reaching x*rsqrt(.) is (grad_y * w) in y's
        // dtype, cast to x's dtype (the .to(input_dtype)), then to float32.
        const auto g = [&](int64_t i) {
          return static_cast<Acc>(static_cast<T>(static_cast<O>(static_cast<OAcc>(gyr[i]) * w[i])));
        };
        const auto xv = [xr](int64_t i) { return static_cast<Acc>(xr[i]); };
        const Acc dot = lane_dot<Acc>(h, g, xv);
        const Acc k = rr * rr * rr * dot / static_cast<Acc>(h);
        for (int64_t i = 0; i < h; ++i) {
          const Acc xi = xv(i);
          gxr[i] = static_cast<T>(g(i) * rr - xi * k);
          part[i] += static_cast<OAcc>(gyr[i]) * static_cast<OAcc>(static_cast<T>(xi * rr));
        }
      }
    }
  });
}

int64_t rows_of(const at::Tensor& x) { return x.size(-1) == 0 ? x.numel() : x.numel() / x.size(-1); }

at::ScalarType acc_type_of(at::ScalarType t) { return t == at::kDouble ? at::kDouble : at::kFloat; }

std::tuple<at::Tensor, at::Tensor> rms_norm_forward_cpu(const at::Tensor& x, const at::Tensor& weight, double eps) {
  check_rms_norm_inputs(x, weight);
  const auto out_type = at::promote_types(x.scalar_type(), weight.scalar_type());
  auto y = at::empty(x.sizes(), x.options().dtype(out_type).memory_format(at::MemoryFormat::Contiguous));
  auto inv = at::empty({rows_of(x)}, x.options().dtype(acc_type_of(x.scalar_type())));
  rms_norm_forward_cpu_into(x, weight, eps, y, inv);
  return {y, inv};
}

std::tuple<at::Tensor, at::Tensor> rms_norm_backward_cpu(const at::Tensor& grad_y, const at::Tensor& x,
                                                         const at::Tensor& weight, const at::Tensor& inv) {
  check_rms_norm_inputs(x, weight);
  const auto out_type = at::promote_types(x.scalar_type(), weight.scalar_type());
  auto gx = at::empty(x.sizes(), x.options().memory_format(at::MemoryFormat::Contiguous));
  auto gw = at::empty({x.size(-1)}, x.options().dtype(acc_type_of(out_type)));
  rms_norm_backward_cpu_into(grad_y.to(out_type), x, weight, inv, gx, gw);
  return {gx, gw.to(weight.scalar_type())};
}

}  // namespace

void rms_norm_forward_cpu_into(const at::Tensor& x_in, const at::Tensor& weight, double eps, at::Tensor& y,
                               at::Tensor& inv) {
  const auto x = x_in.contiguous();
  const int64_t h = x.size(-1), rows = rows_of(x);
  AT_DISPATCH_FLOATING_TYPES_AND2(at::kBFloat16, at::kHalf, x.scalar_type(), "ctxext_rms_norm_forward_cpu", [&] {
    using T = scalar_t;
    with_output_type<T>(y.scalar_type(), [&](auto o_tag) {
      using O = decltype(o_tag);
      using OAcc = at::opmath_type<O>;
      const at::Tensor w = weight.to(c10::CppTypeToScalarType<OAcc>::value).contiguous();
      forward_rows<T, O>(x.const_data_ptr<T>(), w.const_data_ptr<OAcc>(), y.mutable_data_ptr<O>(),
                         inv.mutable_data_ptr<at::opmath_type<T>>(), rows, h, eps);
    });
  });
}

void rms_norm_backward_cpu_into(const at::Tensor& grad_y_in, const at::Tensor& x_in, const at::Tensor& weight,
                                const at::Tensor& inv_in, at::Tensor& gx, at::Tensor& gw) {
  const auto x = x_in.contiguous();
  const auto grad_y = grad_y_in.contiguous();
  const auto inv = inv_in.contiguous();
  const int64_t h = x.size(-1), rows = rows_of(x);
  const int64_t chunks = std::max<int64_t>(1, std::min<int64_t>(rows, at::get_num_threads()));
  AT_DISPATCH_FLOATING_TYPES_AND2(at::kBFloat16, at::kHalf, x.scalar_type(), "ctxext_rms_norm_backward_cpu", [&] {
    using T = scalar_t;
    with_output_type<T>(grad_y.scalar_type(), [&](auto o_tag) {
      using O = decltype(o_tag);
      using OAcc = at::opmath_type<O>;
      const auto acc = c10::CppTypeToScalarType<OAcc>::value;
      const at::Tensor w = weight.to(acc).contiguous();
      at::Tensor part = at::zeros({chunks, h}, x.options().dtype(acc));
      backward_rows<T, O>(grad_y.const_data_ptr<O>(), x.const_data_ptr<T>(), w.const_data_ptr<OAcc>(),
                          inv.const_data_ptr<at::opmath_type<T>>(), gx.mutable_data_ptr<T>(),
                          part.mutable_data_ptr<OAcc>(), chunks, rows, h);
      // Chunks summed in order: [h] in OAcc.
      const OAcc* pp = part.const_data_ptr<OAcc>();
      OAcc* gwp = gw.mutable_data_ptr<OAcc>();
      for (int64_t i = 0; i < h; ++i) gwp[i] = OAcc(0);
      for (int64_t c = 0; c < chunks; ++c) {
        for (int64_t i = 0; i < h; ++i) gwp[i] += pp[c * h + i];
      }
    });
  });
}

TORCH_LIBRARY_IMPL(ctxext, CPU, m) {
  m.impl("rms_norm_forward", &rms_norm_forward_cpu);
  m.impl("rms_norm_backward", &rms_norm_backward_cpu);
}

}  // namespace ctxext::ops
