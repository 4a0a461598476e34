// The `ctxext::rms_norm` op: forward and backward (grad_x and grad_weight) against a float64
// reference and against the plain LibTorch composition the model used before (HF LlamaRMSNorm),
// float32 and bfloat16 (plus float16, float64 and mixed x/weight dtypes), odd shapes (hidden 1, 7,
// 4099, one token, 3-D), outputs poisoned with NaN before the kernels write them, NaN never
// passing a comparison, and argument errors. The same bodies run on CUDA when a GPU is present
// (and say they were skipped when not).
#include <catch2/catch.hpp>
#include <torch/torch.h>

#include <limits>

#include "ops/rms_norm.h"
#include "ops/rms_norm_kernels.h"

using Catch::Matchers::Contains;

namespace {

const std::vector<std::vector<int64_t>> kShapes = {
    {3, 1}, {5, 7}, {1, 7}, {4, 4099}, {1, 4099}, {2, 3, 7}, {2, 5, 64}, {1, 1, 4099}, {2, 3, 1}};

constexpr double kEps = 1e-5;
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// The composition model/rms_norm.cpp used before calling the op (HF LlamaRMSNorm).
// x: [..., h]; weight: [h] -> [..., h]
torch::Tensor composition(const torch::Tensor& x, const torch::Tensor& weight, double eps) {
  const auto x32 = x.to(torch::kFloat32);
  const auto variance = x32.pow(2).mean(-1, /*keepdim=*/true);
  return weight * (x32 * torch::rsqrt(variance + eps)).to(x.scalar_type());
}

// Exact math in float64, differentiable: w * x / sqrt(mean(x^2) + eps). x: [..., h]; weight: [h]
torch::Tensor reference(const torch::Tensor& x, const torch::Tensor& weight, double eps) {
  const auto xd = x.to(torch::kFloat64);
  return weight.to(torch::kFloat64) * xd * torch::rsqrt(xd.pow(2).mean(-1, true) + eps);
}

// Max |a - b| in float64; NaN if either holds a NaN, so `err <= tol` fails on NaN.
double max_abs_diff(const torch::Tensor& a, const torch::Tensor& b) {
  if (a.numel() == 0) return 0.0;
  return (a.to(torch::kCPU, torch::kFloat64) - b.to(torch::kCPU, torch::kFloat64)).abs().max().item<double>();
}

// err <= tol * max(1, max|ref|): relative to the largest magnitude.
bool close(const torch::Tensor& got, const torch::Tensor& ref, double tol) {
  const double scale = std::max(1.0, ref.to(torch::kCPU, torch::kFloat64).abs().max().item<double>());
  return max_abs_diff(got, ref) <= tol * scale;
}

double tolerance(torch::Dtype dtype) {
  switch (dtype) {
    case torch::kFloat64: return 1e-12;
    case torch::kFloat32: return 1e-5;
    default: return 1e-2;  // bf16/fp16: a few roundings of the result (x itself is bf16/fp16)
  }
}

std::string shape_str(const std::vector<int64_t>& s) {
  std::string out = "[";
  for (size_t i = 0; i < s.size(); ++i) out += (i ? "," : "") + std::to_string(s[i]);
  return out + "]";
}

struct Case {
  torch::Tensor x, weight, grad_y;
};

// x ~ N(0, 2^2) (not unit scale, so eps matters little but the normalisation does), weight ~ 1 + N(0, 0.5).
Case make_case(const std::vector<int64_t>& shape, torch::Dtype x_dtype, torch::Dtype w_dtype, torch::Device device) {
  Case c;
  c.x = (2.0 * torch::randn(shape, torch::kFloat64)).to(device, x_dtype);
  c.weight = (1.0 + 0.5 * torch::randn({shape.back()}, torch::kFloat64)).to(device, w_dtype);
  const auto out_dtype = torch::promote_types(x_dtype, w_dtype);
  c.grad_y = torch::randn(shape, torch::kFloat64).to(device, out_dtype);
  return c;
}

struct Result {
  torch::Tensor y, grad_x, grad_weight;
};

template <typename F>
Result run(const Case& c, F&& f) {
  auto x = c.x.clone().requires_grad_(true);
  auto w = c.weight.clone().requires_grad_(true);
  auto y = f(x, w);
  y.backward(c.grad_y);
  return {y.detach(), x.grad(), w.grad()};
}

// Forward and both gradients: the op vs the float64 reference and vs the composition.
void check_against_references(torch::Device device, torch::Dtype x_dtype, torch::Dtype w_dtype) {
  for (const auto& shape : kShapes) {
    INFO("x " << x_dtype << ", weight " << w_dtype << ", shape " << shape_str(shape) << ", device " << device);
    const auto c = make_case(shape, x_dtype, w_dtype, device);
    const auto op = run(c, [](const auto& x, const auto& w) { return ctxext::ops::rms_norm(x, w, kEps); });
    const auto comp = run(c, [](const auto& x, const auto& w) { return composition(x, w, kEps); });
    const auto ref = run(c, [](const auto& x, const auto& w) { return reference(x, w, kEps); });
    REQUIRE(op.y.scalar_type() == comp.y.scalar_type());
    REQUIRE(op.y.sizes() == c.x.sizes());
    REQUIRE(op.y.device() == device);
    REQUIRE(op.y.is_contiguous());
    REQUIRE(op.grad_x.defined());
    REQUIRE(op.grad_weight.defined());
    REQUIRE(op.grad_x.scalar_type() == x_dtype);
    REQUIRE(op.grad_weight.scalar_type() == w_dtype);
    // The coarser of the two dtypes bounds the error.
    const double tol = std::max(tolerance(x_dtype), tolerance(w_dtype));
    CHECK(close(op.y, ref.y, tol));
    CHECK(close(op.grad_x, ref.grad_x, tol));
    CHECK(close(op.grad_weight, ref.grad_weight, tol));
    // The composition computes in float32 even for float64 x (x.to(float32)); the op keeps float64,
    // so against the composition float64 is held to float32's tolerance.
    const double comp_tol = std::max(tol, tolerance(torch::kFloat32));
    CHECK(close(op.y, comp.y, comp_tol));
    CHECK(close(op.grad_x, comp.grad_x, comp_tol));
    CHECK(close(op.grad_weight, comp.grad_weight, comp_tol));
  }
}

void check_all_dtypes(torch::Device device) {
  check_against_references(device, torch::kFloat32, torch::kFloat32);
  check_against_references(device, torch::kBFloat16, torch::kBFloat16);
  check_against_references(device, torch::kFloat16, torch::kFloat16);
  check_against_references(device, torch::kFloat64, torch::kFloat64);
  check_against_references(device, torch::kBFloat16, torch::kFloat32);  // fp32 weight, bf16 activations
  check_against_references(device, torch::kFloat32, torch::kBFloat16);
}

// Non-contiguous x (a transpose, a slice of a wider last dim) and an expanded grad_y (what sum()'s
// backward hands over).
void check_non_contiguous(torch::Device device) {
  const auto c = make_case({3, 5, 8}, torch::kFloat32, torch::kFloat32, device);
  const auto transposed = c.x.transpose(0, 1).contiguous().transpose(0, 1);
  const auto sliced = torch::cat({c.x, c.x}, 2).narrow(2, 0, 8);
  REQUIRE_FALSE(transposed.is_contiguous());
  REQUIRE_FALSE(sliced.is_contiguous());
  const auto ref = reference(c.x, c.weight, kEps);
  for (const auto& x : {transposed, sliced}) CHECK(close(ctxext::ops::rms_norm(x, c.weight, kEps), ref, 1e-5));
  auto x = c.x.clone().requires_grad_(true);
  auto w = c.weight.clone().requires_grad_(true);
  ctxext::ops::rms_norm(x, w, kEps).sum().backward();
  auto xr = c.x.to(torch::kFloat64).requires_grad_(true);
  auto wr = c.weight.to(torch::kFloat64).requires_grad_(true);
  reference(xr, wr, kEps).sum().backward();
  CHECK(close(x.grad(), xr.grad(), 1e-5));
  CHECK(close(w.grad(), wr.grad(), 1e-5));
}

// Under no_grad the op still runs (the non-autograd kernel) and gives the same values.
void check_no_grad(torch::Device device) {
  const auto c = make_case({4, 7}, torch::kFloat32, torch::kFloat32, device);
  const auto with_grad = ctxext::ops::rms_norm(c.x, c.weight.clone().requires_grad_(true), kEps).detach();
  torch::Tensor plain;
  {
    torch::NoGradGuard no_grad;
    plain = ctxext::ops::rms_norm(c.x, c.weight, kEps);
  }
  {
    c10::InferenceMode inference;
    CHECK(max_abs_diff(ctxext::ops::rms_norm(c.x, c.weight, kEps), plain) == 0.0);
  }
  CHECK_FALSE(plain.requires_grad());
  CHECK(max_abs_diff(plain, with_grad) == 0.0);
}

}  // namespace

TEST_CASE("rms_norm forward and backward match float64 and the LibTorch composition on CPU", "[ops][rms_norm]") {
  torch::manual_seed(0);
  check_all_dtypes(torch::kCPU);
}

TEST_CASE("rms_norm accepts non-contiguous inputs and gradients on CPU", "[ops][rms_norm]") {
  torch::manual_seed(1);
  check_non_contiguous(torch::kCPU);
}

TEST_CASE("rms_norm under no_grad and inference mode on CPU", "[ops][rms_norm]") {
  torch::manual_seed(2);
  check_no_grad(torch::kCPU);
}

TEST_CASE("rms_norm with the model's eps on a model-sized row is bit-identical across thread counts",
          "[ops][rms_norm]") {
  torch::manual_seed(3);
  const auto c = make_case({37, 96}, torch::kFloat32, torch::kFloat32, torch::kCPU);
  const int threads = at::get_num_threads();
  at::set_num_threads(1);
  const auto one = run(c, [](const auto& x, const auto& w) { return ctxext::ops::rms_norm(x, w, 1e-6); });
  at::set_num_threads(threads);
  const auto many = run(c, [](const auto& x, const auto& w) { return ctxext::ops::rms_norm(x, w, 1e-6); });
  CHECK(max_abs_diff(one.y, many.y) == 0.0);
  CHECK(max_abs_diff(one.grad_x, many.grad_x) == 0.0);
  // grad_weight sums per-thread chunks, so it may differ in the last bits between thread counts.
  CHECK(close(one.grad_weight, many.grad_weight, 1e-6));
}

TEST_CASE("rms_norm kernels write every output element (outputs poisoned with NaN beforehand)", "[ops][rms_norm]") {
  torch::manual_seed(4);
  for (auto dtype : {torch::kFloat32, torch::kBFloat16}) {
    for (const auto& shape : kShapes) {
      INFO("dtype " << dtype << ", shape " << shape_str(shape));
      const auto c = make_case(shape, dtype, dtype, torch::kCPU);
      const int64_t h = shape.back(), rows = c.x.numel() / h;
      auto y = torch::full(c.x.sizes(), kNaN, c.x.options());
      auto inv = torch::full({rows}, kNaN, torch::kFloat32);
      ctxext::ops::check_rms_norm_inputs(c.x, c.weight);
      ctxext::ops::rms_norm_forward_cpu_into(c.x, c.weight, kEps, y, inv);
      CHECK(torch::isfinite(y).all().item<bool>());
      CHECK(torch::isfinite(inv).all().item<bool>());
      const auto ref_inv = torch::rsqrt(c.x.to(torch::kFloat64).pow(2).mean(-1).flatten() + kEps);
      CHECK(close(inv, ref_inv, 1e-5));
      auto gx = torch::full(c.x.sizes(), kNaN, c.x.options());
      auto gw = torch::full({h}, kNaN, torch::kFloat32);
      ctxext::ops::rms_norm_backward_cpu_into(c.grad_y, c.x, c.weight, inv, gx, gw);
      CHECK(torch::isfinite(gx).all().item<bool>());
      CHECK(torch::isfinite(gw).all().item<bool>());
      const auto ref = run(c, [](const auto& x, const auto& w) { return reference(x, w, kEps); });
      CHECK(close(y, ref.y, tolerance(dtype)));
      CHECK(close(gx, ref.grad_x, tolerance(dtype)));
      CHECK(close(gw, ref.grad_weight, tolerance(dtype)));
    }
  }
}

TEST_CASE("rms_norm: a NaN in the input reaches the output and never passes the comparison", "[ops][rms_norm]") {
  const auto c = make_case({2, 7}, torch::kFloat32, torch::kFloat32, torch::kCPU);
  auto x = c.x.clone();
  x.view(-1)[0] = kNaN;
  const auto out = ctxext::ops::rms_norm(x, c.weight, kEps);
  CHECK(torch::isnan(out[0]).all().item<bool>());  // the whole row shares the statistic
  CHECK(torch::isfinite(out[1]).all().item<bool>());
  CHECK_FALSE(close(out, reference(c.x, c.weight, kEps), 1e-5));
  CHECK_FALSE(max_abs_diff(out, out) <= 1.0);
}

TEST_CASE("rms_norm rejects bad arguments, naming the tensor and the reason", "[ops][rms_norm]") {
  const auto x = torch::randn({2, 5, 8});
  const auto w = torch::ones({8});
  CHECK_THROWS_WITH(ctxext::ops::rms_norm(x, torch::ones({7}), kEps),
                    Contains("weight has shape [7], expected [8] for x of shape [2, 5, 8]"));
  CHECK_THROWS_WITH(ctxext::ops::rms_norm(x, torch::ones({1, 8}), kEps), Contains("weight has shape [1, 8]"));
  CHECK_THROWS_WITH(ctxext::ops::rms_norm(x.to(torch::kInt32), w, kEps), Contains("x has dtype Int"));
  CHECK_THROWS_WITH(ctxext::ops::rms_norm(x, w.to(torch::kInt64), kEps), Contains("weight has dtype Long"));
  CHECK_THROWS_WITH(ctxext::ops::rms_norm(torch::randn({}), torch::ones({1}), kEps), Contains("x has shape []"));
}

TEST_CASE("rms_norm on CUDA: same bodies as CPU, and CUDA agrees with the CPU kernel", "[ops][rms_norm][cuda]") {
  if (!torch::cuda::is_available()) {
    WARN("CUDA not available: skipped the CUDA rms_norm tests (forward/backward vs references, non-contiguous, "
         "no_grad, CUDA vs CPU)");
    return;
  }
  torch::manual_seed(5);
  const torch::Device cuda(torch::kCUDA);
  check_all_dtypes(cuda);
  check_non_contiguous(cuda);
  check_no_grad(cuda);
  for (auto dtype : {torch::kFloat32, torch::kBFloat16}) {
    for (const auto& shape : kShapes) {
      INFO("dtype " << dtype << ", shape " << shape_str(shape));
      const auto c = make_case(shape, dtype, dtype, torch::kCPU);
      const auto f = [](const auto& x, const auto& w) { return ctxext::ops::rms_norm(x, w, kEps); };
      const auto cpu = run(c, f);
      const auto gpu = run({c.x.to(cuda), c.weight.to(cuda), c.grad_y.to(cuda)}, f);
      const double tol = dtype == torch::kFloat32 ? 1e-5 : 1e-2;
      CHECK(close(gpu.y, cpu.y, tol));
      CHECK(close(gpu.grad_x, cpu.grad_x, tol));
      CHECK(close(gpu.grad_weight, cpu.grad_weight, tol));
    }
  }
}
