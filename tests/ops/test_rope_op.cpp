// The `ctxext::rope` op: forward against the closed form (computed in float64 from plain LibTorch
// ops), backward against finite differences and against autograd of that closed form, every
// dtype, both layouts, odd and non-contiguous shapes, and argument errors. The same bodies run on
// CUDA when a GPU is present (and say they were skipped when not).
#include <catch2/catch.hpp>
#include <torch/torch.h>

#include "ops/rope.h"
#include "ops/rope_kernels.h"

using Catch::Matchers::Contains;

namespace {

struct Shape {
  int64_t b, s, n_h, h_d;
};

const std::vector<Shape> kShapes = {{2, 5, 3, 8}, {1, 1, 3, 6}, {3, 7, 2, 64}, {1, 4, 1, 2}};

// Closed form in plain LibTorch ops (differentiable), float64.
// x: [b, s, n_h, h_d]; cos, sin: [s, h_d/2]; scale: [s] or undefined -> [b, s, n_h, h_d]
torch::Tensor reference_rope(const torch::Tensor& x, const torch::Tensor& cos, const torch::Tensor& sin,
                             const torch::Tensor& scale, bool interleaved) {
  const auto xd = x.to(torch::kFloat64);
  const auto c = cos.to(torch::kFloat64).unsqueeze(1);  // [s, 1, h]
  const auto s = sin.to(torch::kFloat64).unsqueeze(1);
  const int64_t h = x.size(3) / 2;
  torch::Tensor out;
  if (interleaved) {
    const auto pairs = xd.unflatten(3, {h, 2});  // [b, s, n_h, h, 2]
    const auto a = pairs.select(4, 0), b = pairs.select(4, 1);
    out = torch::stack({a * c - b * s, b * c + a * s}, 4).flatten(3);
  } else {
    const auto a = xd.narrow(3, 0, h), b = xd.narrow(3, h, h);
    out = torch::cat({a * c - b * s, b * c + a * s}, 3);
  }
  return scale.defined() ? out * scale.to(torch::kFloat64).view({1, -1, 1, 1}) : out;
}

// Max |a - b| in float64; NaN if either holds a NaN, so `err <= tol` fails on NaN.
double max_abs_diff(const torch::Tensor& a, const torch::Tensor& b) {
  if (a.numel() == 0) return 0.0;
  return (a.to(torch::kCPU, torch::kFloat64) - b.to(torch::kCPU, torch::kFloat64)).abs().max().item<double>();
}

struct Inputs {
  torch::Tensor x, cos, sin, scale;
};

// Random angles (any position/frequency) and an EABF-like scale >= 1.
Inputs make_inputs(const Shape& sh, torch::Dtype dtype, torch::Device device, bool with_scale, torch::Dtype table_dtype) {
  const auto angles = torch::rand({sh.s, sh.h_d / 2}, torch::kFloat64) * 100.0;
  Inputs in;
  in.x = torch::randn({sh.b, sh.s, sh.n_h, sh.h_d}, torch::kFloat64).to(device, dtype);
  in.cos = angles.cos().to(device, table_dtype);
  in.sin = angles.sin().to(device, table_dtype);
  if (with_scale) in.scale = (1.0 + torch::rand({sh.s}, torch::kFloat64)).to(device, table_dtype);
  return in;
}

std::optional<torch::Tensor> opt(const torch::Tensor& t) { return t.defined() ? std::optional<torch::Tensor>(t) : std::nullopt; }

double tolerance(torch::Dtype dtype) {
  switch (dtype) {
    case torch::kFloat64: return 1e-12;
    case torch::kFloat32: return 1e-5;
    default: return 1e-2;  // bf16/fp16: one rounding of the result (x itself is already bf16/fp16)
  }
}

void check_forward(torch::Device device) {
  for (auto dtype : {torch::kFloat32, torch::kFloat64, torch::kBFloat16, torch::kFloat16}) {
    for (const auto& sh : kShapes) {
      for (bool interleaved : {false, true}) {
        for (bool with_scale : {false, true}) {
          INFO("dtype " << dtype << ", shape [" << sh.b << "," << sh.s << "," << sh.n_h << "," << sh.h_d
                        << "], interleaved " << interleaved << ", scale " << with_scale);
          const auto in = make_inputs(sh, dtype, device, with_scale,
                                      dtype == torch::kFloat64 ? torch::kFloat64 : torch::kFloat32);
          const auto out = ctxext::ops::rope(in.x, in.cos, in.sin, opt(in.scale), interleaved);
          REQUIRE(out.scalar_type() == dtype);
          REQUIRE(out.device() == device);
          REQUIRE(out.sizes() == in.x.sizes());
          REQUIRE(out.is_contiguous());
          const auto ref = reference_rope(in.x, in.cos, in.sin, in.scale, interleaved);
          // Relative to the largest magnitude (|x| reaches ~4, times a scale up to 2).
          const double err = max_abs_diff(out, ref);
          const double bound = tolerance(dtype) * std::max(1.0, ref.abs().max().item<double>());
          CHECK(err <= bound);
        }
      }
    }
  }
}

void check_non_contiguous(torch::Device device) {
  for (bool interleaved : {false, true}) {
    INFO("interleaved " << interleaved);
    const auto in = make_inputs({2, 5, 3, 8}, torch::kFloat32, device, true, torch::kFloat32);
    // [b, n_h, s, h_d] transposed to [b, s, n_h, h_d], and a slice of a wider last dim.
    const auto transposed = in.x.transpose(1, 2).contiguous().transpose(1, 2);
    const auto sliced = torch::cat({in.x, in.x}, 3).narrow(3, 0, 8);
    REQUIRE_FALSE(transposed.is_contiguous());
    REQUIRE_FALSE(sliced.is_contiguous());
    const auto ref = reference_rope(in.x, in.cos, in.sin, in.scale, interleaved);
    for (const auto& x : {transposed, sliced}) {
      const auto out = ctxext::ops::rope(x, in.cos, in.sin, in.scale, interleaved);
      CHECK(out.is_contiguous());
      CHECK(max_abs_diff(out, ref) <= 1e-5);
    }
    // Non-contiguous tables too.
    const auto cos_t = torch::stack({in.cos, in.cos}, 1).select(1, 0);
    REQUIRE_FALSE(cos_t.is_contiguous());
    CHECK(max_abs_diff(ctxext::ops::rope(in.x, cos_t, in.sin, in.scale, interleaved), ref) <= 1e-5);
  }
}

void check_backward(torch::Device device) {
  for (const auto& sh : kShapes) {
    for (bool interleaved : {false, true}) {
      for (bool with_scale : {false, true}) {
        INFO("shape [" << sh.b << "," << sh.s << "," << sh.n_h << "," << sh.h_d << "], interleaved " << interleaved
                       << ", scale " << with_scale);
        const auto in = make_inputs(sh, torch::kFloat64, device, with_scale, torch::kFloat64);
        const auto weight = torch::randn(in.x.sizes(), in.x.options());
        auto x = in.x.clone().requires_grad_(true);
        (ctxext::ops::rope(x, in.cos, in.sin, opt(in.scale), interleaved) * weight).sum().backward();
        auto x_ref = in.x.clone().requires_grad_(true);
        (reference_rope(x_ref, in.cos, in.sin, in.scale, interleaved) * weight).sum().backward();
        REQUIRE(x.grad().defined());
        CHECK(max_abs_diff(x.grad(), x_ref.grad()) <= 1e-12);
      }
    }
  }
}

// Central differences of L(x) = sum(rope(x) * w) in float64, element by element.
void check_finite_differences(torch::Device device) {
  for (bool interleaved : {false, true}) {
    INFO("interleaved " << interleaved);
    const auto in = make_inputs({1, 2, 2, 6}, torch::kFloat64, device, true, torch::kFloat64);
    const auto weight = torch::randn(in.x.sizes(), in.x.options());
    const auto loss = [&](const torch::Tensor& x) {
      return (ctxext::ops::rope(x, in.cos, in.sin, in.scale, interleaved) * weight).sum().item<double>();
    };
    auto x = in.x.clone().requires_grad_(true);
    (ctxext::ops::rope(x, in.cos, in.sin, in.scale, interleaved) * weight).sum().backward();
    const auto grad = x.grad().to(torch::kCPU).flatten();
    const double eps = 1e-6;
    for (int64_t i = 0; i < in.x.numel(); ++i) {
      auto plus = in.x.clone(), minus = in.x.clone();
      plus.view(-1)[i] += eps;
      minus.view(-1)[i] -= eps;
      const double numeric = (loss(plus) - loss(minus)) / (2 * eps);
      INFO("element " << i);
      CHECK(grad[i].item<double>() == Approx(numeric).margin(1e-7));
    }
  }
}

}  // namespace

TEST_CASE("rope forward matches the closed form on CPU (all dtypes, both layouts, odd shapes)", "[ops][rope]") {
  torch::manual_seed(0);
  check_forward(torch::kCPU);
}

TEST_CASE("rope forward accepts non-contiguous inputs on CPU", "[ops][rope]") {
  torch::manual_seed(1);
  check_non_contiguous(torch::kCPU);
}

TEST_CASE("rope backward matches autograd of the closed form on CPU", "[ops][rope]") {
  torch::manual_seed(2);
  check_backward(torch::kCPU);
}

TEST_CASE("rope backward matches central finite differences on CPU", "[ops][rope]") {
  torch::manual_seed(3);
  check_finite_differences(torch::kCPU);
}

TEST_CASE("rope gives no gradient to cos, sin or scale", "[ops][rope]") {
  const auto in = make_inputs({1, 3, 2, 4}, torch::kFloat64, torch::kCPU, true, torch::kFloat64);
  auto x = in.x.clone().requires_grad_(true);
  auto cos = in.cos.clone().requires_grad_(true);
  ctxext::ops::rope(x, cos, in.sin, in.scale).sum().backward();
  CHECK(x.grad().defined());
  CHECK_FALSE(cos.grad().defined());
}

TEST_CASE("rope through the dispatcher: inverse undoes the forward, double backward works", "[ops][rope]") {
  const auto op = c10::Dispatcher::singleton()
                      .findSchemaOrThrow("ctxext::rope", "")
                      .typed<at::Tensor(const at::Tensor&, const at::Tensor&, const at::Tensor&,
                                        const std::optional<at::Tensor>&, bool, bool)>();
  const auto in = make_inputs({2, 5, 3, 8}, torch::kFloat64, torch::kCPU, false, torch::kFloat64);
  for (bool interleaved : {false, true}) {
    const auto rotated = op.call(in.x, in.cos, in.sin, std::nullopt, interleaved, false);
    CHECK(max_abs_diff(op.call(rotated, in.cos, in.sin, std::nullopt, interleaved, true), in.x) <= 1e-12);
  }
  // The backward is linear in the incoming gradient: d/dg <grad_x(g), v> = R^T v, i.e. the forward.
  auto x = in.x.clone().requires_grad_(true);
  auto g = torch::randn(in.x.sizes(), torch::kFloat64).requires_grad_(true);
  const auto out = ctxext::ops::rope(x, in.cos, in.sin);
  const auto grad_x = torch::autograd::grad({out}, {x}, {g}, /*retain_graph=*/true, /*create_graph=*/true)[0];
  const auto v = torch::randn(in.x.sizes(), torch::kFloat64);
  const auto dg = torch::autograd::grad({(grad_x * v).sum()}, {g})[0];
  CHECK(max_abs_diff(dg, reference_rope(v, in.cos, in.sin, {}, false)) <= 1e-12);
}

TEST_CASE("rope writes every output element (output poisoned with NaN beforehand)", "[ops][rope]") {
  for (auto dtype : {torch::kFloat32, torch::kBFloat16}) {
    for (bool interleaved : {false, true}) {
      INFO("dtype " << dtype << ", interleaved " << interleaved);
      const auto in = make_inputs({2, 3, 3, 6}, dtype, torch::kCPU, true, torch::kFloat32);
      auto out = torch::full(in.x.sizes(), std::numeric_limits<float>::quiet_NaN(), in.x.options());
      ctxext::ops::check_rope_inputs(in.x, in.cos, in.sin, in.scale);
      ctxext::ops::rope_cpu_into(in.x, in.cos, in.sin, in.scale, interleaved, false, out);
      CHECK(torch::isfinite(out).all().item<bool>());
      const auto ref = reference_rope(in.x, in.cos, in.sin, in.scale, interleaved);
      CHECK(max_abs_diff(out, ref) <= tolerance(dtype) * std::max(1.0, ref.abs().max().item<double>()));
    }
  }
}

TEST_CASE("a NaN in the input reaches the output and never passes the comparison", "[ops][rope]") {
  const auto in = make_inputs({1, 2, 1, 4}, torch::kFloat32, torch::kCPU, false, torch::kFloat32);
  auto x = in.x.clone();
  x.view(-1)[0] = std::numeric_limits<float>::quiet_NaN();
  const auto out = ctxext::ops::rope(x, in.cos, in.sin);
  CHECK(torch::isnan(out).any().item<bool>());
  CHECK_FALSE(max_abs_diff(out, reference_rope(in.x, in.cos, in.sin, {}, false)) <= 1e-5);
}

TEST_CASE("rope rejects bad arguments, naming the tensor and the reason", "[ops][rope]") {
  const auto x = torch::randn({2, 5, 3, 8});
  const auto cos = torch::randn({5, 4}), sin = torch::randn({5, 4});
  CHECK_THROWS_WITH(ctxext::ops::rope(x.flatten(0, 1), cos, sin), Contains("x has shape [10, 3, 8]"));
  CHECK_THROWS_WITH(ctxext::ops::rope(torch::randn({2, 5, 3, 7}), cos, sin), Contains("head dim 7 must be even"));
  CHECK_THROWS_WITH(ctxext::ops::rope(x, torch::randn({5, 8}), sin),
                    Contains("cos has shape [5, 8], expected [5, 4]"));
  CHECK_THROWS_WITH(ctxext::ops::rope(x, cos, torch::randn({4, 4})), Contains("sin has shape [4, 4]"));
  CHECK_THROWS_WITH(ctxext::ops::rope(x, cos, sin, torch::ones({4})), Contains("scale has shape [4], expected [5]"));
  CHECK_THROWS_WITH(ctxext::ops::rope(x.to(torch::kInt32), cos, sin), Contains("x has dtype Int"));
  CHECK_THROWS_WITH(ctxext::ops::rope(x, cos.to(torch::kHalf), sin), Contains("cos has dtype Half"));
}

TEST_CASE("rope on CUDA: same bodies as CPU, and CUDA agrees with the CPU kernel", "[ops][rope][cuda]") {
  if (!torch::cuda::is_available()) {
    WARN("CUDA not available: skipped the CUDA rope tests (forward, non-contiguous, backward, CUDA vs CPU)");
    return;
  }
  torch::manual_seed(4);
  const torch::Device cuda(torch::kCUDA);
  check_forward(cuda);
  check_non_contiguous(cuda);
  check_backward(cuda);
  check_finite_differences(cuda);
  for (auto dtype : {torch::kFloat32, torch::kFloat64, torch::kBFloat16, torch::kFloat16}) {
    for (const auto& sh : kShapes) {
      for (bool interleaved : {false, true}) {
        INFO("dtype " << dtype << ", h_d " << sh.h_d << ", interleaved " << interleaved);
        const auto in = make_inputs(sh, dtype, torch::kCPU, true, torch::kFloat32);
        const auto cpu = ctxext::ops::rope(in.x, in.cos, in.sin, in.scale, interleaved);
        const auto gpu = ctxext::ops::rope(in.x.to(cuda), in.cos.to(cuda), in.sin.to(cuda), in.scale.to(cuda),
                                           interleaved);
        // Same float32 math; only FMA contraction may differ, plus one rounding step in bf16/fp16.
        const double bound = dtype == torch::kFloat32 || dtype == torch::kFloat64 ? 1e-5 : 1e-2;
        CHECK(max_abs_diff(gpu, cpu) <= bound * std::max(1.0, cpu.abs().max().item<double>()));
      }
    }
  }
}
