// The `ctxext::swiglu` op: forward and backward against a float64 reference and against the plain
// LibTorch composition torch::silu(gate) * up (what the model computed before the op), float32
// (1e-5 relative) and bfloat16 / float16 (1e-2), odd and 3-D shapes, non-contiguous inputs,
// outputs poisoned with NaN before each kernel call, NaN inputs, and argument errors. The same
// bodies run on CUDA when a GPU is present (and say they were skipped when not).
#include <catch2/catch.hpp>
#include <torch/torch.h>

#include "ops/swiglu.h"
#include "ops/swiglu_kernels.h"

using Catch::Matchers::Contains;

namespace {

const std::vector<std::vector<int64_t>> kShapes = {{1}, {7}, {4099}, {2, 5, 37}, {3, 4, 1024}, {0}};

// float64 reference, differentiable: silu(g) * u with silu written out.
torch::Tensor reference(const torch::Tensor& g, const torch::Tensor& u) {
  const auto gd = g.to(torch::kFloat64), ud = u.to(torch::kFloat64);
  return gd * torch::sigmoid(gd) * ud;
}

// Max |a - b| in float64; NaN if either holds a NaN, so `err <= tol` fails on NaN.
double max_abs_diff(const torch::Tensor& a, const torch::Tensor& b) {
  if (a.numel() == 0) return 0.0;
  return (a.to(torch::kCPU, torch::kFloat64) - b.to(torch::kCPU, torch::kFloat64)).abs().max().item<double>();
}

double max_abs(const torch::Tensor& t) { return t.numel() == 0 ? 0.0 : t.abs().max().item<double>(); }

double tolerance(torch::Dtype dtype) {
  switch (dtype) {
    case torch::kFloat64: return 1e-12;
    case torch::kFloat32: return 1e-5;
    default: return 1e-2;  // bf16/fp16: one rounding of the result (the inputs are already bf16/fp16)
  }
}

// `err <= tol * max(1, |ref|_max)`: relative to the largest magnitude of the reference.
void check_close(const torch::Tensor& got, const torch::Tensor& ref, torch::Dtype dtype) {
  const double err = max_abs_diff(got, ref);
  INFO("max abs error " << err << ", max |ref| " << max_abs(ref));
  CHECK(err <= tolerance(dtype) * std::max(1.0, max_abs(ref)));
}

// gate spans the whole silu curve (|g| up to ~12, both tails), up ~ N(0, 1).
std::pair<torch::Tensor, torch::Tensor> make_inputs(at::IntArrayRef shape, torch::Dtype dtype, torch::Device device) {
  const auto g = (torch::randn(shape, torch::kFloat64) * 3.0).to(device, dtype);
  const auto u = torch::randn(shape, torch::kFloat64).to(device, dtype);
  return {g, u};
}

const float kNaN = std::numeric_limits<float>::quiet_NaN();

void check_forward(torch::Device device) {
  for (auto dtype : {torch::kFloat32, torch::kFloat64, torch::kBFloat16, torch::kFloat16}) {
    for (const auto& shape : kShapes) {
      INFO("dtype " << dtype << ", shape " << torch::IntArrayRef(shape));
      const auto [g, u] = make_inputs(shape, dtype, device);
      const auto out = ctxext::ops::swiglu(g, u);
      REQUIRE(out.scalar_type() == dtype);
      REQUIRE(out.device() == device);
      REQUIRE(out.sizes() == g.sizes());
      REQUIRE(out.is_contiguous());
      check_close(out, reference(g, u), dtype);
      // The composition the model used before: silu then multiply, each rounded to dtype.
      check_close(out, torch::silu(g) * u, dtype);
    }
  }
}

void check_backward(torch::Device device) {
  for (auto dtype : {torch::kFloat32, torch::kFloat64, torch::kBFloat16}) {
    for (const auto& shape : kShapes) {
      INFO("dtype " << dtype << ", shape " << torch::IntArrayRef(shape));
      const auto [g0, u0] = make_inputs(shape, dtype, device);
      const auto w = torch::randn(shape, torch::kFloat64).to(device, dtype);
      auto g = g0.clone().requires_grad_(true), u = u0.clone().requires_grad_(true);
      (ctxext::ops::swiglu(g, u) * w).sum().backward();
      REQUIRE(g.grad().defined());
      REQUIRE(u.grad().defined());
      REQUIRE(g.grad().scalar_type() == dtype);
      // float64 reference from the same (rounded) inputs.
      auto gr = g0.to(torch::kFloat64).clone().requires_grad_(true), ur = u0.to(torch::kFloat64).clone().requires_grad_(true);
      (reference(gr, ur) * w.to(torch::kFloat64)).sum().backward();
      check_close(g.grad(), gr.grad(), dtype);
      check_close(u.grad(), ur.grad(), dtype);
      // Plain LibTorch composition in the same dtype.
      auto gc = g0.clone().requires_grad_(true), uc = u0.clone().requires_grad_(true);
      (torch::silu(gc) * uc * w).sum().backward();
      check_close(g.grad(), gc.grad(), dtype);
      check_close(u.grad(), uc.grad(), dtype);
    }
  }
}

void check_non_contiguous(torch::Device device) {
  const auto [g, u] = make_inputs({3, 5, 16}, torch::kFloat32, device);
  const auto ref = reference(g, u);
  // A transposed view and a slice of a wider last dim (the fused gate/up projection layout).
  const auto gt = g.transpose(0, 1).contiguous().transpose(0, 1);
  const auto us = torch::cat({u, g}, 2).narrow(2, 0, 16);
  REQUIRE_FALSE(gt.is_contiguous());
  REQUIRE_FALSE(us.is_contiguous());
  const auto out = ctxext::ops::swiglu(gt, us);
  CHECK(out.is_contiguous());
  check_close(out, ref, torch::kFloat32);
  // Backward with non-contiguous inputs and an expanded (stride-0) incoming gradient.
  auto gg = gt.detach().requires_grad_(true), uu = us.detach().requires_grad_(true);
  ctxext::ops::swiglu(gg, uu).sum().backward();
  auto gr = g.to(torch::kFloat64).clone().requires_grad_(true), ur = u.to(torch::kFloat64).clone().requires_grad_(true);
  reference(gr, ur).sum().backward();
  check_close(gg.grad(), gr.grad(), torch::kFloat32);
  check_close(uu.grad(), ur.grad(), torch::kFloat32);
}

// Central differences of L = sum(swiglu(g, u) * w) in float64, element by element.
void check_finite_differences(torch::Device device) {
  const auto [g0, u0] = make_inputs({2, 5}, torch::kFloat64, device);
  const auto w = torch::randn({2, 5}, torch::kFloat64).to(device);
  auto g = g0.clone().requires_grad_(true), u = u0.clone().requires_grad_(true);
  (ctxext::ops::swiglu(g, u) * w).sum().backward();
  const auto loss = [&](const torch::Tensor& a, const torch::Tensor& b) {
    return (ctxext::ops::swiglu(a, b) * w).sum().item<double>();
  };
  const double eps = 1e-6;
  for (int which = 0; which < 2; ++which) {
    const auto grad = (which == 0 ? g.grad() : u.grad()).to(torch::kCPU).flatten();
    for (int64_t i = 0; i < g0.numel(); ++i) {
      auto ga = g0.clone(), gb = g0.clone(), ua = u0.clone(), ub = u0.clone();
      (which == 0 ? ga : ua).view(-1)[i] += eps;
      (which == 0 ? gb : ub).view(-1)[i] -= eps;
      const double numeric = (loss(ga, ua) - loss(gb, ub)) / (2 * eps);
      INFO((which == 0 ? "gate" : "up") << " element " << i);
      CHECK(grad[i].item<double>() == Approx(numeric).margin(1e-7));
    }
  }
}

// The *_into kernels write every element: outputs start as NaN.
void check_poisoned(torch::Device device) {
  for (auto dtype : {torch::kFloat32, torch::kBFloat16, torch::kFloat16, torch::kFloat64}) {
    for (const auto& shape : kShapes) {
      INFO("dtype " << dtype << ", shape " << torch::IntArrayRef(shape));
      const auto [g, u] = make_inputs(shape, dtype, device);
      const auto go = torch::randn(shape, torch::kFloat64).to(device, dtype);
      auto out = torch::full(shape, kNaN, g.options());
      auto gg = torch::full(shape, kNaN, g.options()), gu = torch::full(shape, kNaN, g.options());
      const bool cuda = device.is_cuda();
#ifdef CTXEXT_WITH_CUDA
      if (cuda) {
        ctxext::ops::swiglu_cuda_into(g, u, out);
        ctxext::ops::swiglu_backward_cuda_into(go, g, u, gg, gu);
      }
#else
      REQUIRE_FALSE(cuda);
#endif
      if (!cuda) {
        ctxext::ops::swiglu_cpu_into(g, u, out);
        ctxext::ops::swiglu_backward_cpu_into(go, g, u, gg, gu);
      }
      CHECK(torch::isfinite(out).all().item<bool>());
      CHECK(torch::isfinite(gg).all().item<bool>());
      CHECK(torch::isfinite(gu).all().item<bool>());
      check_close(out, reference(g, u), dtype);
      auto gr = g.to(torch::kFloat64).clone().requires_grad_(true), ur = u.to(torch::kFloat64).clone().requires_grad_(true);
      (reference(gr, ur) * go.to(torch::kFloat64)).sum().backward();
      check_close(gg, gr.grad(), dtype);
      check_close(gu, ur.grad(), dtype);
    }
  }
}

// A NaN in gate or up reaches the output and both gradients at that element, and the comparison
// against the clean reference fails.
void check_nan_propagates(torch::Device device) {
  for (auto dtype : {torch::kFloat32, torch::kBFloat16}) {
    for (int which = 0; which < 2; ++which) {
      INFO("dtype " << dtype << ", NaN in " << (which == 0 ? "gate" : "up"));
      const auto [g0, u0] = make_inputs({4099}, dtype, device);
      auto g = g0.clone(), u = u0.clone();
      (which == 0 ? g : u).view(-1)[4098] = kNaN;
      const auto out = ctxext::ops::swiglu(g, u);
      CHECK(torch::isnan(out[4098]).item<bool>());
      CHECK(torch::isfinite(out.narrow(0, 0, 4098)).all().item<bool>());
      CHECK_FALSE(max_abs_diff(out, reference(g0, u0)) <= 1e-2);
      const auto [gg, gu] = ctxext::ops::swiglu_backward(torch::ones_like(g), g, u);
      CHECK(torch::isnan(gg[4098]).item<bool>());
      if (which == 0) CHECK(torch::isnan(gu[4098]).item<bool>());  // grad_up = grad * silu(gate): NaN only via gate
    }
  }
  // Infinite and huge gates follow silu: silu(+inf) = +inf, silu(-100) ~ 0, silu(100) = 100.
  const auto g = torch::tensor({100.0f, -100.0f, 88.5f, -88.5f, 30.0f, -30.0f}).to(device);
  const auto u = torch::ones_like(g);
  check_close(ctxext::ops::swiglu(g, u), reference(g, u), torch::kFloat32);
  const auto gi = torch::tensor({std::numeric_limits<float>::infinity()}).to(device);
  CHECK(ctxext::ops::swiglu(gi, torch::ones_like(gi)).item<float>() == std::numeric_limits<float>::infinity());
}

}  // namespace

TEST_CASE("swiglu forward matches float64 and silu(gate) * up on CPU (all dtypes, odd shapes)", "[ops][swiglu]") {
  torch::manual_seed(0);
  check_forward(torch::kCPU);
}

TEST_CASE("swiglu backward matches float64 autograd and the LibTorch composition on CPU", "[ops][swiglu]") {
  torch::manual_seed(1);
  check_backward(torch::kCPU);
}

TEST_CASE("swiglu accepts non-contiguous inputs on CPU", "[ops][swiglu]") {
  torch::manual_seed(2);
  check_non_contiguous(torch::kCPU);
}

TEST_CASE("swiglu backward matches central finite differences on CPU", "[ops][swiglu]") {
  torch::manual_seed(3);
  check_finite_differences(torch::kCPU);
}

TEST_CASE("swiglu writes every output element on CPU (outputs poisoned with NaN beforehand)", "[ops][swiglu]") {
  torch::manual_seed(4);
  check_poisoned(torch::kCPU);
}

TEST_CASE("swiglu propagates NaN on CPU and a NaN never passes the comparison", "[ops][swiglu]") {
  torch::manual_seed(5);
  check_nan_propagates(torch::kCPU);
}

TEST_CASE("swiglu bf16 on CPU = the float32 kernel on the widened inputs, rounded like c10::BFloat16", "[ops][swiglu]") {
  torch::manual_seed(8);
  const auto [g, u] = make_inputs({3, 4099}, torch::kBFloat16, torch::kCPU);
  const auto go = torch::randn({3, 4099}).to(torch::kBFloat16);
  CHECK(torch::equal(ctxext::ops::swiglu(g, u), ctxext::ops::swiglu(g.to(torch::kFloat32), u.to(torch::kFloat32))
                                                    .to(torch::kBFloat16)));
  const auto [gg, gu] = ctxext::ops::swiglu_backward(go, g, u);
  const auto [gg32, gu32] =
      ctxext::ops::swiglu_backward(go.to(torch::kFloat32), g.to(torch::kFloat32), u.to(torch::kFloat32));
  CHECK(torch::equal(gg, gg32.to(torch::kBFloat16)));
  CHECK(torch::equal(gu, gu32.to(torch::kBFloat16)));
}

TEST_CASE("swiglu is multi-threaded-safe: same result with 1 and 2 intra-op threads", "[ops][swiglu]") {
  torch::manual_seed(6);
  const auto [g, u] = make_inputs({3, 40000}, torch::kFloat32, torch::kCPU);
  const int saved = at::get_num_threads();
  at::set_num_threads(1);
  const auto one = ctxext::ops::swiglu(g, u);
  at::set_num_threads(2);
  const auto two = ctxext::ops::swiglu(g, u);
  at::set_num_threads(saved);
  CHECK(torch::equal(one, two));
}

TEST_CASE("swiglu saves only gate and up: the graph holds no extra activation", "[ops][swiglu]") {
  auto g = torch::randn({4, 8}).requires_grad_(true), u = torch::randn({4, 8}).requires_grad_(true);
  const auto out = ctxext::ops::swiglu(g, u);
  REQUIRE(out.grad_fn());
  CHECK(out.grad_fn()->next_edges().size() == 2);
  // Gradient only to the inputs that ask for one.
  auto u2 = torch::randn({4, 8});
  ctxext::ops::swiglu(g, u2).sum().backward();
  CHECK(g.grad().defined());
}

TEST_CASE("swiglu rejects bad arguments, naming the tensor and the reason", "[ops][swiglu]") {
  const auto g = torch::randn({2, 8}), u = torch::randn({2, 8});
  CHECK_THROWS_WITH(ctxext::ops::swiglu(g, torch::randn({2, 4})), Contains("up has shape [2, 4], expected gate's shape [2, 8]"));
  CHECK_THROWS_WITH(ctxext::ops::swiglu(g, torch::randn({8})), Contains("no broadcasting"));
  CHECK_THROWS_WITH(ctxext::ops::swiglu(g, u.to(torch::kBFloat16)), Contains("up has dtype BFloat16, gate has dtype Float"));
  CHECK_THROWS_WITH(ctxext::ops::swiglu(g.to(torch::kInt32), u.to(torch::kInt32)), Contains("gate has dtype Int"));
  CHECK_THROWS_WITH(ctxext::ops::swiglu_backward(torch::randn({2, 7}), g, u),
                    Contains("ctxext::swiglu_backward: grad_out has shape [2, 7]"));
}

TEST_CASE("swiglu on CUDA: same bodies as CPU, and CUDA agrees with the CPU kernel", "[ops][swiglu][cuda]") {
  if (!torch::cuda::is_available()) {
    WARN("CUDA not available: skipped the CUDA swiglu tests (forward, backward, non-contiguous, finite differences, "
         "poisoned outputs, NaN, CUDA vs CPU)");
    return;
  }
  torch::manual_seed(7);
  const torch::Device cuda(torch::kCUDA);
  check_forward(cuda);
  check_backward(cuda);
  check_non_contiguous(cuda);
  check_finite_differences(cuda);
  check_poisoned(cuda);
  check_nan_propagates(cuda);
  for (auto dtype : {torch::kFloat32, torch::kFloat64, torch::kBFloat16, torch::kFloat16}) {
    for (const auto& shape : kShapes) {
      INFO("dtype " << dtype << ", shape " << torch::IntArrayRef(shape));
      const auto [g, u] = make_inputs(shape, dtype, torch::kCPU);
      const auto go = torch::randn(shape, torch::kFloat64).to(dtype);
      check_close(ctxext::ops::swiglu(g.to(cuda), u.to(cuda)), ctxext::ops::swiglu(g, u), dtype);
      const auto [gg_cpu, gu_cpu] = ctxext::ops::swiglu_backward(go, g, u);
      const auto [gg_gpu, gu_gpu] = ctxext::ops::swiglu_backward(go.to(cuda), g.to(cuda), u.to(cuda));
      check_close(gg_gpu, gg_cpu, dtype);
      check_close(gu_gpu, gu_cpu, dtype);
    }
  }
}
