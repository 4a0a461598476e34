// The `ctxext::rope` op: forward against the closed form (computed in float64 from plain LibTorch
// ops), backward against finite differences and against autograd of that closed form, every
// dtype, both layouts, odd and non-contiguous shapes, and argument errors. `ctxext::rope_qk` and
// its in-place variant: bitwise the two rope calls (forward and backward), GQA shapes, in place ==
// out of place. The same bodies run on CUDA when a GPU is present (and say they were skipped when not).
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


// ---- rope_qk: q and k in one op ---------------------------------------------------------------

struct QkShape {
  int64_t b, s, n_q, n_kv, h_d;
};

// GQA (n_q a multiple of n_kv), one token, odd head counts, n_kv > n_q, head dim 2 and 128.
const std::vector<QkShape> kQkShapes = {{2, 5, 4, 2, 8}, {1, 1, 3, 1, 6}, {3, 7, 5, 5, 64}, {1, 4, 1, 3, 2},
                                        {1, 3, 7, 1, 128}};

struct QkInputs {
  torch::Tensor q, k, cos, sin, scale;
};

QkInputs make_qk_inputs(const QkShape& sh, torch::Dtype dtype, torch::Device device, bool with_scale) {
  const auto table_dtype = dtype == torch::kFloat64 ? torch::kFloat64 : torch::kFloat32;
  const auto in = make_inputs({sh.b, sh.s, sh.n_q, sh.h_d}, dtype, device, with_scale, table_dtype);
  const auto k = torch::randn({sh.b, sh.s, sh.n_kv, sh.h_d}, torch::kFloat64).to(device, dtype);
  return {in.x, k, in.cos, in.sin, in.scale};
}

std::string describe(const QkShape& sh) {
  return "[" + std::to_string(sh.b) + "," + std::to_string(sh.s) + ", n_q " + std::to_string(sh.n_q) + ", n_kv " +
         std::to_string(sh.n_kv) + "," + std::to_string(sh.h_d) + "]";
}

// Forward: bitwise the two rope calls, and the float64 closed form within the dtype's tolerance.
void check_qk_forward(torch::Device device) {
  for (auto dtype : {torch::kFloat32, torch::kBFloat16, torch::kFloat64, torch::kFloat16}) {
    for (const auto& sh : kQkShapes) {
      for (bool interleaved : {false, true}) {
        for (bool with_scale : {false, true}) {
          INFO("dtype " << dtype << ", shape " << describe(sh) << ", interleaved " << interleaved << ", scale "
                        << with_scale);
          const auto in = make_qk_inputs(sh, dtype, device, with_scale);
          const auto [q_rot, k_rot] = ctxext::ops::rope_qk(in.q, in.k, in.cos, in.sin, opt(in.scale), interleaved);
          REQUIRE(q_rot.scalar_type() == dtype);
          REQUIRE(k_rot.device() == device);
          REQUIRE(q_rot.sizes() == in.q.sizes());
          REQUIRE(k_rot.sizes() == in.k.sizes());
          CHECK(torch::equal(q_rot, ctxext::ops::rope(in.q, in.cos, in.sin, opt(in.scale), interleaved)));
          CHECK(torch::equal(k_rot, ctxext::ops::rope(in.k, in.cos, in.sin, std::nullopt, interleaved)));
          const auto q_ref = reference_rope(in.q, in.cos, in.sin, in.scale, interleaved);
          const auto k_ref = reference_rope(in.k, in.cos, in.sin, {}, interleaved);
          CHECK(max_abs_diff(q_rot, q_ref) <= tolerance(dtype) * std::max(1.0, q_ref.abs().max().item<double>()));
          CHECK(max_abs_diff(k_rot, k_ref) <= tolerance(dtype) * std::max(1.0, k_ref.abs().max().item<double>()));
        }
      }
    }
  }
}

// Non-contiguous q and k (transposed from [b, n, s, h_d], a slice of a wider last dim): bitwise the
// two rope calls on the same views.
void check_qk_non_contiguous(torch::Device device) {
  for (bool interleaved : {false, true}) {
    INFO("interleaved " << interleaved);
    const auto in = make_qk_inputs({2, 5, 4, 2, 8}, torch::kFloat32, device, true);
    const auto q = in.q.transpose(1, 2).contiguous().transpose(1, 2);
    const auto k = torch::cat({in.k, in.k}, 3).narrow(3, 8, 8);
    REQUIRE_FALSE(q.is_contiguous());
    REQUIRE_FALSE(k.is_contiguous());
    const auto [q_rot, k_rot] = ctxext::ops::rope_qk(q, k, in.cos, in.sin, in.scale, interleaved);
    CHECK(q_rot.is_contiguous());
    CHECK(k_rot.is_contiguous());
    CHECK(torch::equal(q_rot, ctxext::ops::rope(in.q, in.cos, in.sin, in.scale, interleaved)));
    CHECK(torch::equal(k_rot, ctxext::ops::rope(in.k, in.cos, in.sin, std::nullopt, interleaved)));
  }
}

// Backward (float64 and float32): both gradients bitwise those of the two-call path, and the
// closed form's autograd; also when only one output reaches the loss.
void check_qk_backward(torch::Device device) {
  for (auto dtype : {torch::kFloat64, torch::kFloat32}) {
    for (const auto& sh : kQkShapes) {
      for (bool interleaved : {false, true}) {
        for (int used : {0, 1, 2}) {  // 0: q and k, 1: q only, 2: k only
          INFO("dtype " << dtype << ", shape " << describe(sh) << ", interleaved " << interleaved << ", used " << used);
          const auto in = make_qk_inputs(sh, dtype, device, true);
          const auto wq = torch::randn(in.q.sizes(), in.q.options());
          const auto wk = torch::randn(in.k.sizes(), in.k.options());
          const auto loss = [&](const torch::Tensor& q_rot, const torch::Tensor& k_rot) {
            if (used == 1) return (q_rot * wq).sum();
            if (used == 2) return (k_rot * wk).sum();
            return (q_rot * wq).sum() + (k_rot * wk).sum();
          };
          auto q = in.q.clone().requires_grad_(true), k = in.k.clone().requires_grad_(true);
          const auto [q_rot, k_rot] = ctxext::ops::rope_qk(q, k, in.cos, in.sin, in.scale, interleaved);
          loss(q_rot, k_rot).backward();
          auto q2 = in.q.clone().requires_grad_(true), k2 = in.k.clone().requires_grad_(true);
          loss(ctxext::ops::rope(q2, in.cos, in.sin, in.scale, interleaved),
               ctxext::ops::rope(k2, in.cos, in.sin, std::nullopt, interleaved))
              .backward();
          auto q3 = in.q.clone().requires_grad_(true), k3 = in.k.clone().requires_grad_(true);
          loss(reference_rope(q3, in.cos, in.sin, in.scale, interleaved),
               reference_rope(k3, in.cos, in.sin, {}, interleaved))
              .backward();
          for (const auto& [mine, two_calls, ref] : {std::tuple{q.grad(), q2.grad(), q3.grad()},
                                                      std::tuple{k.grad(), k2.grad(), k3.grad()}}) {
            REQUIRE(mine.defined() == two_calls.defined());
            if (!mine.defined()) continue;
            CHECK(torch::equal(mine, two_calls));
            CHECK(max_abs_diff(mine, ref) <= tolerance(dtype) * std::max(1.0, ref.abs().max().item<double>()));
          }
        }
      }
    }
  }
}

// Central differences of L(q, k) = sum(q_rot * wq) + sum(k_rot * wk) in float64, element by element.
void check_qk_finite_differences(torch::Device device) {
  for (bool interleaved : {false, true}) {
    INFO("interleaved " << interleaved);
    const auto in = make_qk_inputs({1, 2, 3, 1, 6}, torch::kFloat64, device, true);
    const auto wq = torch::randn(in.q.sizes(), in.q.options());
    const auto wk = torch::randn(in.k.sizes(), in.k.options());
    const auto loss = [&](const torch::Tensor& q, const torch::Tensor& k) {
      const auto [q_rot, k_rot] = ctxext::ops::rope_qk(q, k, in.cos, in.sin, in.scale, interleaved);
      return (q_rot * wq).sum() + (k_rot * wk).sum();
    };
    auto q = in.q.clone().requires_grad_(true), k = in.k.clone().requires_grad_(true);
    loss(q, k).backward();
    const double eps = 1e-6;
    for (int which : {0, 1}) {
      const auto& base = which == 0 ? in.q : in.k;
      const auto grad = (which == 0 ? q.grad() : k.grad()).to(torch::kCPU).flatten();
      for (int64_t i = 0; i < base.numel(); ++i) {
        auto plus = base.clone(), minus = base.clone();
        plus.view(-1)[i] += eps;
        minus.view(-1)[i] -= eps;
        const double numeric = which == 0 ? (loss(plus, in.k) - loss(minus, in.k)).item<double>() / (2 * eps)
                                          : (loss(in.q, plus) - loss(in.q, minus)).item<double>() / (2 * eps);
        INFO((which == 0 ? "q" : "k") << " element " << i);
        CHECK(grad[i].item<double>() == Approx(numeric).margin(1e-7));
      }
    }
  }
}

// In place: bitwise the out-of-place result, written into q and k's own storage.
void check_qk_inplace(torch::Device device) {
  for (auto dtype : {torch::kFloat32, torch::kBFloat16}) {
    for (const auto& sh : kQkShapes) {
      for (bool interleaved : {false, true}) {
        INFO("dtype " << dtype << ", shape " << describe(sh) << ", interleaved " << interleaved);
        const auto in = make_qk_inputs(sh, dtype, device, true);
        const auto [q_rot, k_rot] = ctxext::ops::rope_qk(in.q, in.k, in.cos, in.sin, in.scale, interleaved);
        auto q = in.q.clone(), k = in.k.clone();
        const void* q_ptr = q.data_ptr();
        const void* k_ptr = k.data_ptr();
        const auto q_version = q._version();
        ctxext::ops::rope_qk_(q, k, in.cos, in.sin, in.scale, interleaved);
        CHECK(q.data_ptr() == q_ptr);
        CHECK(k.data_ptr() == k_ptr);
        CHECK(q._version() > q_version);
        CHECK(torch::equal(q, q_rot));
        CHECK(torch::equal(k, k_rot));
      }
    }
  }
  // Under NoGradGuard, on projections of parameters that require grad (the model's eval path).
  const auto in = make_qk_inputs({1, 3, 4, 2, 8}, torch::kFloat32, device, false);
  const auto w = torch::eye(8, in.q.options()).requires_grad_(true);
  const auto expected = ctxext::ops::rope_qk(in.q, in.k, in.cos, in.sin);
  torch::NoGradGuard no_grad;
  auto q = torch::matmul(in.q, w), k = torch::matmul(in.k, w);
  REQUIRE_FALSE(q.requires_grad());
  ctxext::ops::rope_qk_(q, k, in.cos, in.sin);
  CHECK(torch::equal(q, expected.first));
  CHECK(torch::equal(k, expected.second));
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

TEST_CASE("rope_qk forward is bitwise two rope calls and matches the closed form on CPU (GQA, odd heads, one token)",
          "[ops][rope][rope_qk]") {
  torch::manual_seed(10);
  check_qk_forward(torch::kCPU);
}

TEST_CASE("rope_qk accepts non-contiguous q and k on CPU", "[ops][rope][rope_qk]") {
  torch::manual_seed(11);
  check_qk_non_contiguous(torch::kCPU);
}

TEST_CASE("rope_qk backward is bitwise the two-call path and matches the closed form on CPU", "[ops][rope][rope_qk]") {
  torch::manual_seed(12);
  check_qk_backward(torch::kCPU);
}

TEST_CASE("rope_qk backward matches central finite differences on CPU", "[ops][rope][rope_qk]") {
  torch::manual_seed(13);
  check_qk_finite_differences(torch::kCPU);
}

TEST_CASE("rope_qk_ rotates in place, bitwise the out-of-place result, on CPU", "[ops][rope][rope_qk]") {
  torch::manual_seed(14);
  check_qk_inplace(torch::kCPU);
}

TEST_CASE("rope_qk writes every output element (outputs poisoned with NaN beforehand)", "[ops][rope][rope_qk]") {
  for (auto dtype : {torch::kFloat32, torch::kBFloat16}) {
    for (bool interleaved : {false, true}) {
      INFO("dtype " << dtype << ", interleaved " << interleaved);
      const auto in = make_qk_inputs({2, 3, 5, 1, 6}, dtype, torch::kCPU, true);
      const auto nan = std::numeric_limits<float>::quiet_NaN();
      auto q_out = torch::full(in.q.sizes(), nan, in.q.options());
      auto k_out = torch::full(in.k.sizes(), nan, in.k.options());
      ctxext::ops::rope_qk_cpu_into(in.q, in.k, in.cos, in.sin, in.scale, interleaved, false, q_out, k_out);
      CHECK(torch::equal(q_out, ctxext::ops::rope(in.q, in.cos, in.sin, in.scale, interleaved)));
      CHECK(torch::equal(k_out, ctxext::ops::rope(in.k, in.cos, in.sin, std::nullopt, interleaved)));
    }
  }
}

TEST_CASE("rope_qk and rope_qk_ reject bad arguments, naming the tensor and the reason", "[ops][rope][rope_qk]") {
  const auto q = torch::randn({2, 5, 4, 8}), k = torch::randn({2, 5, 2, 8});
  const auto cos = torch::randn({5, 4}), sin = torch::randn({5, 4});
  using ctxext::ops::rope_qk;
  CHECK_THROWS_WITH(rope_qk(q, k.flatten(0, 1), cos, sin), Contains("ctxext::rope_qk: k has shape [10, 2, 8]"));
  CHECK_THROWS_WITH(rope_qk(q, torch::randn({1, 5, 2, 8}), cos, sin),
                    Contains("k has shape [1, 5, 2, 8], q has shape [2, 5, 4, 8]: batch, sequence and head dim"));
  CHECK_THROWS_WITH(rope_qk(q, torch::randn({2, 5, 2, 6}), cos, sin),
                    Contains("cos has shape [5, 4], expected [5, 3] for k of shape [2, 5, 2, 6]"));
  CHECK_THROWS_WITH(rope_qk(q, k.to(torch::kBFloat16), cos, sin), Contains("k has dtype BFloat16, q has dtype Float"));
  CHECK_THROWS_WITH(rope_qk(q, k, cos, sin, torch::ones({4})),
                    Contains("scale has shape [4], expected [5] for q of shape [2, 5, 4, 8]"));
  CHECK_THROWS_WITH(rope_qk(torch::randn({2, 5, 4, 7}), k, cos, sin), Contains("q has shape [2, 5, 4, 7]: head dim 7"));

  auto q_grad = q.clone().requires_grad_(true), k_plain = k.clone();
  CHECK_THROWS_WITH(ctxext::ops::rope_qk_(q_grad, k_plain, cos, sin),
                    Contains("ctxext::rope_qk_: q requires grad; the in-place rotation is for inference"));
  auto q_t = q.transpose(1, 2).contiguous().transpose(1, 2), k2 = k.clone();
  CHECK_THROWS_WITH(ctxext::ops::rope_qk_(q_t, k2, cos, sin),
                    Contains("ctxext::rope_qk_: q of shape [2, 5, 4, 8] is not contiguous"));
  auto k_t = k.transpose(1, 2).contiguous().transpose(1, 2), q2 = q.clone();
  CHECK_THROWS_WITH(ctxext::ops::rope_qk_(q2, k_t, cos, sin), Contains("ctxext::rope_qk_: k of shape [2, 5, 2, 8]"));
  auto same = q.clone();
  CHECK_THROWS_WITH(ctxext::ops::rope_qk_(same, same, cos, sin), Contains("q and k are the same storage"));
  // A refused call leaves its inputs untouched.
  CHECK(torch::equal(q2, q));
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

TEST_CASE("rope_qk on CUDA: same bodies as CPU, and CUDA agrees with the CPU kernel", "[ops][rope][rope_qk][cuda]") {
  if (!torch::cuda::is_available()) {
    WARN("CUDA not available: skipped the CUDA rope_qk tests (forward, non-contiguous, backward, in place, CUDA vs CPU)");
    return;
  }
  torch::manual_seed(15);
  const torch::Device cuda(torch::kCUDA);
  check_qk_forward(cuda);
  check_qk_non_contiguous(cuda);
  check_qk_backward(cuda);
  check_qk_finite_differences(cuda);
  check_qk_inplace(cuda);
  for (auto dtype : {torch::kFloat32, torch::kBFloat16}) {
    for (const auto& sh : kQkShapes) {
      for (bool interleaved : {false, true}) {
        INFO("dtype " << dtype << ", shape " << describe(sh) << ", interleaved " << interleaved);
        const auto in = make_qk_inputs(sh, dtype, torch::kCPU, true);
        const auto cpu = ctxext::ops::rope_qk(in.q, in.k, in.cos, in.sin, in.scale, interleaved);
        const auto gpu = ctxext::ops::rope_qk(in.q.to(cuda), in.k.to(cuda), in.cos.to(cuda), in.sin.to(cuda),
                                              in.scale.to(cuda), interleaved);
        const double bound = dtype == torch::kFloat32 ? 1e-5 : 1e-2;
        CHECK(max_abs_diff(gpu.first, cpu.first) <= bound * std::max(1.0, cpu.first.abs().max().item<double>()));
        CHECK(max_abs_diff(gpu.second, cpu.second) <= bound * std::max(1.0, cpu.second.abs().max().item<double>()));
      }
    }
  }
}
