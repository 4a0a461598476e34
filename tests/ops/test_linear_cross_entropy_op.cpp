// The `ctxext::linear_cross_entropy` op: the loss and both gradients (hidden, weight) against a
// float64 reference and against the plain LibTorch composition
// cross_entropy(linear(hidden, weight).to(float32), targets) (what train/causal_lm_loss computed
// before), sum and mean, float32 (1e-5 relative) and bfloat16 / float16 (2e-2), odd shapes (hidden
// 7 and 13, one token, vocabulary and token counts not multiples of the chunk, all targets
// ignored, a chunk with no target), outputs poisoned with NaN before each kernel call, chunk
// invariance, grad_output scaling, no_grad, and argument errors. The same bodies run on CUDA when a
// GPU is present (and say they were skipped when not).
#include <catch2/catch.hpp>
#include <torch/torch.h>

#include <limits>

#include "ops/linear_cross_entropy.h"
#include "ops/linear_cross_entropy_kernels.h"

using Catch::Matchers::Contains;
using ctxext::ops::LossReduction;

namespace {

constexpr int64_t kIgnore = -100;
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

struct Shape {
  int64_t n, h, v, chunk;
  double ignored;  // fraction of targets set to kIgnore
};

// n not a multiple of the chunk, v not a multiple of anything, hidden 7 / 13 (not multiples of 8),
// one token, chunk 0 (all at once), chunk 1, a chunk larger than n.
const std::vector<Shape> kShapes = {{37, 64, 101, 8, 0.2}, {1, 7, 33, 4, 0.0},   {16, 13, 101, 16, 0.3},
                                    {50, 24, 257, 0, 0.1}, {20, 9, 50, 7, 0.5},  {5, 16, 19, 1, 0.0},
                                    {6, 8, 11, 64, 0.0}};

std::string shape_str(const Shape& s) {
  return "n " + std::to_string(s.n) + ", h " + std::to_string(s.h) + ", v " + std::to_string(s.v) + ", chunk " +
         std::to_string(s.chunk);
}

const char* name_of(LossReduction r) { return r == LossReduction::kMean ? "mean" : "sum"; }

struct Case {
  torch::Tensor hidden, weight, targets;
};

// hidden ~ N(0, 1), weight ~ N(0, 4 / h): logits ~ N(0, 4), so the softmax is neither flat nor one-hot.
Case make_case(const Shape& s, torch::Dtype dtype, torch::Device device) {
  Case c;
  c.hidden = torch::randn({s.n, s.h}, torch::kFloat64).to(device, dtype);
  c.weight = (torch::randn({s.v, s.h}, torch::kFloat64) * (2.0 / std::sqrt(double(s.h)))).to(device, dtype);
  auto t = torch::randint(s.v, {s.n}, torch::kLong);
  t.masked_fill_(torch::rand({s.n}, torch::kFloat64) < s.ignored, kIgnore);
  c.targets = t.to(device);
  return c;
}

struct Result {
  torch::Tensor loss, grad_hidden, grad_weight;
};

template <typename F>
Result run(const Case& c, F&& f) {
  auto h = c.hidden.clone().requires_grad_(true);
  auto w = c.weight.clone().requires_grad_(true);
  auto loss = f(h, w);
  loss.backward();
  return {loss.detach(), h.grad(), w.grad()};
}

torch::Tensor cross_entropy(const torch::Tensor& logits, const torch::Tensor& targets, LossReduction r) {
  namespace F = torch::nn::functional;
  auto options = F::CrossEntropyFuncOptions().ignore_index(kIgnore);
  if (r == LossReduction::kMean) {
    options.reduction(torch::kMean);
  } else {
    options.reduction(torch::kSum);
  }
  return F::cross_entropy(logits, targets, options);
}

// The composition the trainer computed before the op (model logits: linear, then float32).
Result composition(const Case& c, LossReduction r) {
  return run(c, [&](const auto& h, const auto& w) {
    return cross_entropy(torch::nn::functional::linear(h, w).to(torch::kFloat32), c.targets, r);
  });
}

// Exact math in float64 on the same (already rounded) inputs.
Result reference(const Case& c, LossReduction r) {
  return run(c, [&](const auto& h, const auto& w) {
    return cross_entropy(torch::mm(h.to(torch::kFloat64), w.to(torch::kFloat64).t()), c.targets, r);
  });
}

Result fused(const Case& c, int64_t chunk, LossReduction r) {
  return run(c, [&](const auto& h, const auto& w) {
    return ctxext::ops::linear_cross_entropy(h, w, c.targets, kIgnore, chunk, r);
  });
}

double max_abs(const torch::Tensor& t) {
  return t.numel() == 0 ? 0.0 : t.to(torch::kCPU, torch::kFloat64).abs().max().item<double>();
}

// Max |a - b| in float64; NaN if either holds a NaN, so `err <= tol` fails on NaN.
double max_abs_diff(const torch::Tensor& a, const torch::Tensor& b) {
  if (a.numel() == 0) return 0.0;
  return max_abs(a.to(torch::kCPU, torch::kFloat64) - b.to(torch::kCPU, torch::kFloat64));
}

// err <= tol * max|ref| (relative to the largest magnitude; an all-zero reference wants exact zeros).
void check_close(const char* what, const torch::Tensor& got, const torch::Tensor& ref, double tol) {
  const double err = max_abs_diff(got, ref);
  INFO(what << ": max abs error " << err << ", max |ref| " << max_abs(ref));
  CHECK(got.sizes() == ref.sizes());
  CHECK(err <= tol * max_abs(ref));
}

double tolerance(torch::Dtype dtype) {
  switch (dtype) {
    case torch::kFloat64: return 1e-12;
    case torch::kFloat32: return 1e-5;
    // bf16/fp16: the logits, the gradient of the logits and both gradients are rounded to the
    // input dtype (as the composition does), each ~2^-9 relative; 2e-2 leaves room for a few.
    default: return 2e-2;
  }
}

void check_result(const Result& got, const Result& ref, double tol) {
  check_close("loss", got.loss, ref.loss, tol);
  check_close("grad_hidden", got.grad_hidden, ref.grad_hidden, tol);
  check_close("grad_weight", got.grad_weight, ref.grad_weight, tol);
}

// Loss and both gradients: the op vs the float64 reference and vs the composition.
void check_against_references(torch::Device device, torch::Dtype dtype) {
  for (const auto& s : kShapes) {
    for (auto r : {LossReduction::kSum, LossReduction::kMean}) {
      INFO(dtype << ", " << shape_str(s) << ", " << name_of(r) << ", device " << device);
      const auto c = make_case(s, dtype, device);
      const auto op = fused(c, s.chunk, r);
      REQUIRE(op.loss.dim() == 0);
      REQUIRE(op.loss.scalar_type() == (dtype == torch::kFloat64 ? torch::kFloat64 : torch::kFloat32));
      REQUIRE(op.loss.device() == device);
      REQUIRE(op.grad_hidden.scalar_type() == dtype);
      REQUIRE(op.grad_weight.scalar_type() == dtype);
      REQUIRE(op.grad_hidden.device() == device);
      check_result(op, reference(c, r), tolerance(dtype));
      // The composition rounds its float64 logits to float32 (.to(float32)): float32's tolerance there.
      check_result(op, composition(c, r), std::max(tolerance(dtype), tolerance(torch::kFloat32)));
    }
  }
}

void check_all_dtypes(torch::Device device) {
  check_against_references(device, torch::kFloat32);
  check_against_references(device, torch::kBFloat16);
  check_against_references(device, torch::kFloat16);
  check_against_references(device, torch::kFloat64);
}

// Every target ignored: sum 0 and zero gradients; mean NaN (0 / 0, as PyTorch) and zero gradients.
// Also a first chunk with no target (the op skips its matmuls) next to supervised chunks.
void check_ignored(torch::Device device) {
  const Shape s{12, 13, 29, 5, 0.0};
  auto c = make_case(s, torch::kFloat32, device);
  c.targets = torch::full({s.n}, kIgnore, torch::kLong).to(device);
  const auto sum = fused(c, s.chunk, LossReduction::kSum);
  CHECK(sum.loss.item<double>() == 0.0);
  CHECK(max_abs(sum.grad_hidden) == 0.0);
  CHECK(max_abs(sum.grad_weight) == 0.0);
  const auto mean = fused(c, s.chunk, LossReduction::kMean);
  CHECK(std::isnan(mean.loss.item<double>()));
  CHECK(std::isnan(composition(c, LossReduction::kMean).loss.item<double>()));
  CHECK(max_abs(mean.grad_hidden) == 0.0);
  CHECK(max_abs(mean.grad_weight) == 0.0);

  c.targets = torch::randint(s.v, {s.n}, torch::kLong).to(device);
  c.targets.slice(0, 0, 6).fill_(kIgnore);  // chunk 0 (rows 0-4) and row 5 of chunk 1
  for (auto r : {LossReduction::kSum, LossReduction::kMean}) {
    INFO(name_of(r));
    const auto op = fused(c, s.chunk, r);
    check_result(op, reference(c, r), 1e-5);
    CHECK(max_abs(op.grad_hidden.slice(0, 0, 6)) == 0.0);
  }
}

// The chunk changes only the order of float32 sums; grad_output scales both gradients; only
// weight requiring grad works; no_grad gives the same loss without gradients.
void check_chunks_and_grad_output(torch::Device device) {
  const Shape s{23, 16, 45, 0, 0.2};
  const auto c = make_case(s, torch::kFloat32, device);
  const auto whole = fused(c, 0, LossReduction::kSum);
  for (int64_t chunk : {1, 4, 7, 22, 23, 100}) {
    INFO("chunk " << chunk);
    check_result(fused(c, chunk, LossReduction::kSum), whole, 1e-6);
  }
  const auto scaled = run(c, [&](const auto& h, const auto& w) {
    return 3.5 * ctxext::ops::linear_cross_entropy(h, w, c.targets, kIgnore, 5, LossReduction::kSum);
  });
  check_close("loss x 3.5", scaled.loss, whole.loss * 3.5, 1e-6);
  check_close("grad_hidden x 3.5", scaled.grad_hidden, whole.grad_hidden * 3.5, 1e-6);
  check_close("grad_weight x 3.5", scaled.grad_weight, whole.grad_weight * 3.5, 1e-6);

  auto w = c.weight.clone().requires_grad_(true);
  ctxext::ops::linear_cross_entropy(c.hidden, w, c.targets, kIgnore, 5, LossReduction::kSum).backward();
  check_close("grad_weight alone", w.grad(), whole.grad_weight, 1e-6);

  torch::Tensor plain;
  {
    torch::NoGradGuard no_grad;
    plain = ctxext::ops::linear_cross_entropy(c.hidden.clone().requires_grad_(true), c.weight, c.targets, kIgnore, 5,
                                              LossReduction::kSum);
  }
  CHECK_FALSE(plain.requires_grad());
  check_close("no_grad loss", plain, whole.loss, 1e-6);
  {
    c10::InferenceMode inference;
    check_close("inference loss",
                ctxext::ops::linear_cross_entropy(c.hidden, c.weight, c.targets, kIgnore, 5, LossReduction::kSum),
                whole.loss, 1e-6);
  }
  // Non-contiguous hidden and weight (transposed copies).
  const auto ht = c.hidden.t().contiguous().t(), wt = c.weight.t().contiguous().t();
  REQUIRE_FALSE(ht.is_contiguous());
  check_close("non-contiguous",
              ctxext::ops::linear_cross_entropy(ht, wt, c.targets, kIgnore, 5, LossReduction::kSum), whole.loss, 1e-6);
}

// The kernels write every output: the forward into NaN-filled loss and gradients, the row step
// into NaN-filled per-row losses.
void check_poisoned(torch::Device device) {
  const auto rows = ctxext::ops::cross_entropy_rows_for(device);
  for (auto dtype : {torch::kFloat32, torch::kBFloat16}) {
    for (const auto& s : kShapes) {
      for (auto r : {LossReduction::kSum, LossReduction::kMean}) {
        INFO(dtype << ", " << shape_str(s) << ", " << name_of(r) << ", device " << device);
        const auto c = make_case(s, dtype, device);
        auto loss = torch::full({}, kNaN, c.hidden.options().dtype(torch::kFloat32));
        auto gh = torch::full({s.n, s.h}, kNaN, c.hidden.options());
        auto gw = torch::full({s.v, s.h}, kNaN, c.weight.options());
        ctxext::ops::linear_cross_entropy_forward_into(c.hidden, c.weight, c.targets, kIgnore, s.chunk, name_of(r),
                                                       rows, loss, gh, gw);
        CHECK(torch::isfinite(loss).all().item<bool>());
        CHECK(torch::isfinite(gh).all().item<bool>());
        CHECK(torch::isfinite(gw).all().item<bool>());
        check_result({loss, gh, gw}, reference(c, r), tolerance(dtype));

        // The row step alone: per-row losses and the gradient of the logits.
        auto logits = torch::mm(c.hidden, c.weight.t());
        const auto logits64 = logits.to(torch::kFloat64);
        auto loss_rows = torch::full({s.n}, kNaN, loss.options());
        rows(logits, c.targets, kIgnore, 0.5, loss_rows, /*write_grad=*/true);
        const auto valid = c.targets.ne(kIgnore);
        const auto lse = torch::logsumexp(logits64, 1);
        const auto picked = logits64.gather(1, c.targets.clamp_min(0).unsqueeze(1)).squeeze(1);
        check_close("loss_rows", loss_rows, torch::where(valid, lse - picked, torch::zeros_like(lse)), tolerance(dtype));
        auto grad = torch::softmax(logits64, 1);
        grad.scatter_add_(1, c.targets.clamp_min(0).unsqueeze(1), -torch::ones({s.n, 1}, grad.options()));
        grad = grad * valid.unsqueeze(1) * 0.5;
        check_close("grad of logits", logits, grad, tolerance(dtype));
      }
    }
  }
}

}  // namespace

TEST_CASE("linear_cross_entropy: loss and gradients match float64 and the LibTorch composition on CPU",
          "[ops][linear_cross_entropy]") {
  torch::manual_seed(0);
  check_all_dtypes(torch::kCPU);
}

TEST_CASE("linear_cross_entropy: ignored targets, all of them or a whole chunk, on CPU", "[ops][linear_cross_entropy]") {
  torch::manual_seed(1);
  check_ignored(torch::kCPU);
}

TEST_CASE("linear_cross_entropy: chunk sizes, grad_output, no_grad and strides on CPU", "[ops][linear_cross_entropy]") {
  torch::manual_seed(2);
  check_chunks_and_grad_output(torch::kCPU);
}

TEST_CASE("linear_cross_entropy kernels write every output (outputs poisoned with NaN beforehand) on CPU",
          "[ops][linear_cross_entropy]") {
  torch::manual_seed(3);
  check_poisoned(torch::kCPU);
}

TEST_CASE("linear_cross_entropy: a NaN in hidden reaches the loss and never passes the comparison",
          "[ops][linear_cross_entropy]") {
  const auto c = make_case({4, 8, 10, 2, 0.0}, torch::kFloat32, torch::kCPU);
  auto h = c.hidden.clone();
  h[2][3] = kNaN;
  const auto loss = ctxext::ops::linear_cross_entropy(h, c.weight, c.targets, kIgnore, 2, LossReduction::kSum);
  CHECK(std::isnan(loss.item<double>()));
  CHECK_FALSE(max_abs_diff(loss, reference(c, LossReduction::kSum).loss) <= 1.0);
}

TEST_CASE("linear_cross_entropy rejects bad arguments, naming the tensor and the reason",
          "[ops][linear_cross_entropy]") {
  using ctxext::ops::linear_cross_entropy;
  const auto h = torch::randn({4, 8});
  const auto w = torch::randn({10, 8});
  const auto t = torch::tensor(std::vector<int64_t>{1, 2, kIgnore, 9});
  const auto sum = LossReduction::kSum;
  CHECK_THROWS_WITH(linear_cross_entropy(h, torch::randn({10, 7}), t, kIgnore, 2, sum),
                    Contains("weight has shape [10, 7], expected [v, 8] for hidden of shape [4, 8]"));
  CHECK_THROWS_WITH(linear_cross_entropy(h, w, torch::zeros({5}, torch::kLong), kIgnore, 2, sum),
                    Contains("targets has shape [5], expected [4] for hidden of shape [4, 8]"));
  CHECK_THROWS_WITH(linear_cross_entropy(h.unsqueeze(0), w, t, kIgnore, 2, sum),
                    Contains("hidden has shape [1, 4, 8], expected [n, h]"));
  CHECK_THROWS_WITH(linear_cross_entropy(h, w, torch::tensor(std::vector<int64_t>{1, 2, 10, 3}), kIgnore, 2, sum),
                    Contains("targets[2] is 10, outside [0, 10) (the vocabulary of weight) and not ignore_index -100"));
  CHECK_THROWS_WITH(linear_cross_entropy(h, w, torch::tensor(std::vector<int64_t>{1, -1, 0, 3}), kIgnore, 2, sum),
                    Contains("targets[1] is -1, outside [0, 10)"));
  CHECK_THROWS_WITH(linear_cross_entropy(h, w, t.to(torch::kInt32), kIgnore, 2, sum),
                    Contains("targets has dtype Int, expected Long (int64)"));
  CHECK_THROWS_WITH(linear_cross_entropy(h, w.to(torch::kBFloat16), t, kIgnore, 2, sum),
                    Contains("weight has dtype BFloat16, hidden has dtype Float (expected the same)"));
  CHECK_THROWS_WITH(linear_cross_entropy(h.to(torch::kInt64), w.to(torch::kInt64), t, kIgnore, 2, sum),
                    Contains("hidden has dtype Long, expected float32"));
  CHECK_THROWS_WITH(linear_cross_entropy(h, torch::randn({0, 8}), t, kIgnore, 2, sum),
                    Contains("weight has shape [0, 8], expected at least one vocabulary row"));
  auto rows = ctxext::ops::cross_entropy_rows_for(torch::kCPU);
  torch::Tensor loss = torch::empty({}), gh, gw;
  CHECK_THROWS_WITH(
      ctxext::ops::linear_cross_entropy_forward_into(h, w, t, kIgnore, 2, "avg", rows, loss, gh, gw),
      Contains("ctxext::linear_cross_entropy: reduction 'avg' is not one of sum, mean"));
}

TEST_CASE("linear_cross_entropy on CUDA: same bodies as CPU, and CUDA agrees with the CPU kernel",
          "[ops][linear_cross_entropy][cuda]") {
  if (!torch::cuda::is_available()) {
    WARN("CUDA not available: skipped the CUDA linear_cross_entropy tests (loss/gradients vs references, "
         "ignored targets, chunks and grad_output, poisoned outputs, CUDA vs CPU)");
    return;
  }
  torch::manual_seed(5);
  const torch::Device cuda(torch::kCUDA);
  check_all_dtypes(cuda);
  check_ignored(cuda);
  check_chunks_and_grad_output(cuda);
  check_poisoned(cuda);
  for (auto dtype : {torch::kFloat32, torch::kBFloat16}) {
    for (const auto& s : kShapes) {
      INFO(dtype << ", " << shape_str(s));
      const auto c = make_case(s, dtype, torch::kCPU);
      const auto cpu = fused(c, s.chunk, LossReduction::kSum);
      const auto gpu = fused({c.hidden.to(cuda), c.weight.to(cuda), c.targets.to(cuda)}, s.chunk, LossReduction::kSum);
      check_result(gpu, cpu, tolerance(dtype));
    }
  }
}
