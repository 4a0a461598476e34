// The step profiler behind `ctxext train --profile-steps` (train/step_profiler.h): self time from
// nested intervals, the op categories, the table's arithmetic, and a real Kineto profile of matmuls.
#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include "support/test_support.h"
#include "train/step_profiler.h"

using namespace ctxext;
using namespace ctxext::testing;
using Catch::Matchers::Contains;

namespace {

const train::OpTime& op(const std::vector<train::OpTime>& ops, const std::string& name) {
  for (const auto& o : ops)
    if (o.name == name) return o;
  FAIL("no op " << name);
  throw;
}

}  // namespace

TEST_CASE("step profiler: self time excludes nested ops, per thread", "[train][profile]") {
  // Thread 1: linear [0, 10 ms) calls mm [1, 7) which calls fill_ [2, 3); then add [10, 12).
  // Thread 2: mm [0, 4), overlapping thread 1's intervals in time but not nested in them.
  // An op starting exactly where its sibling ends is not its child.
  const uint64_t ms = 1000000;
  const auto ops = train::self_times({{1, 10 * ms, 12 * ms, "aten::add"},
                                      {1, 1 * ms, 7 * ms, "aten::mm"},
                                      {2, 0, 4 * ms, "aten::mm"},
                                      {1, 0, 10 * ms, "aten::linear"},
                                      {1, 2 * ms, 3 * ms, "aten::fill_"}});
  CHECK(op(ops, "aten::linear").self_ms == Approx(4.0));  // 10 - 6 (mm)
  CHECK(op(ops, "aten::mm").self_ms == Approx(5.0 + 4.0));  // (6 - 1 fill_) + thread 2's 4
  CHECK(op(ops, "aten::mm").calls == 2);
  CHECK(op(ops, "aten::fill_").self_ms == Approx(1.0));
  CHECK(op(ops, "aten::add").self_ms == Approx(2.0));
  CHECK(ops.front().name == "aten::mm");  // sorted by self time
  // Self times add up to the busy time of each thread: 12 ms on thread 1, 4 ms on thread 2.
  double sum = 0;
  for (const auto& o : ops) sum += o.self_ms;
  CHECK(sum == Approx(16.0));
  // Two intervals starting together: the longer one is the parent.
  const auto same_start = train::self_times({{1, 0, 2 * ms, "inner"}, {1, 0, 5 * ms, "outer"}});
  CHECK(op(same_start, "outer").self_ms == Approx(3.0));
  CHECK(op(same_start, "inner").self_ms == Approx(2.0));
}

TEST_CASE("step profiler: categories and the table's shares", "[train][profile]") {
  CHECK(train::op_category("aten::mm") == "matmul");
  CHECK(train::op_category("aten::addmm_") == "matmul");
  CHECK(train::op_category("aten::_scaled_dot_product_flash_attention_for_cpu_backward") == "attention");
  CHECK(train::op_category("ctxext::rms_norm_backward") == "ctxext kernels");
  CHECK(train::op_category("aten::_fused_adamw_") == "optimizer");
  CHECK(train::op_category("aten::mul") == "other");
  // Two steps of 100 ms wall: 60 + 20 + 10 ms of op self time per step -> 10 ms outside any op.
  const std::vector<train::OpTime> ops{{"aten::mm", 4, 120.0}, {"aten::mul", 6, 40.0}, {"ctxext::rope_qk", 2, 20.0}};
  const auto table = train::format_profile({ops, {}}, 2, 200.0, 2);
  INFO(table);
  CHECK_THAT(table, Contains("2 step(s), 200.0 ms wall (100.0 ms per step)"));
  CHECK_THAT(table, Contains("60.00    60.0%         2.0  aten::mm"));
  CHECK_THAT(table, Contains("... 1 more in the categories below"));
  CHECK_THAT(table, !Contains("device kernels"));  // a CPU run has none
  CHECK_THAT(table, Contains("matmul               60.00    60.0%"));
  CHECK_THAT(table, Contains("ctxext kernels       10.00    10.0%"));
  CHECK_THAT(table, Contains("outside ops          10.00    10.0%"));
}

TEST_CASE("step profiler: device kernels, their categories and the device's idle share", "[train][profile]") {
  CHECK(train::kernel_category("sm90_xmma_gemm_bf16bf16_bf16f32_f32_tn_n_tilesize128x128x64") == "matmul");
  CHECK(train::kernel_category("void cutlass::Kernel2<cutlass_80_wmma_tensorop_bf16_s161616gemm>(Params)") == "matmul");
  CHECK(train::kernel_category("void pytorch_flash::flash_fwd_kernel<Flash_fwd_kernel_traits<128>>(Params)") ==
        "attention");
  CHECK(train::kernel_category("void ctxext::ops::(anonymous namespace)::rope_halves_kernel<c10::BFloat16, float>()") ==
        "ctxext kernels");
  CHECK(train::kernel_category("void at::native::(anonymous namespace)::multi_tensor_apply_kernel<FusedAdamW>()") ==
        "optimizer");
  CHECK(train::kernel_category("Memcpy HtoD (Pinned -> Device)") == "copies");
  CHECK(train::kernel_category("void at::native::vectorized_elementwise_kernel<4, AddFunctor>()") == "other");
  // One step of 100 ms: 60 ms of GEMMs, 10 of copies -> the device idle 30% of the step.
  const train::Profile profile{{{"aten::mm", 3, 5.0}},
                               {{"sm90_xmma_gemm_bf16", 3, 60.0}, {"Memcpy DtoH (Device -> Pinned)", 1, 10.0}}};
  const auto table = train::format_profile(profile, 1, 100.0, 10);
  INFO(table);
  CHECK_THAT(table, Contains("device kernels and copies by duration"));
  CHECK_THAT(table, Contains("matmul               60.00    60.0%"));
  CHECK_THAT(table, Contains("copies               10.00    10.0%"));
  CHECK_THAT(table, Contains("device idle          30.00    30.0%"));
  CHECK_THAT(table, Contains("outside ops          95.00    95.0%"));
}

TEST_CASE("step profiler: a real Kineto profile of three matmuls and its trace file", "[train][profile]") {
  TempDir dir;
  const auto a = torch::randn({64, 64});
  train::StepProfiler profiler(/*cuda=*/false);
  profiler.start();
  CHECK(profiler.running());
  for (int i = 0; i < 3; ++i) (void)torch::mm(a, a);
  const auto profile = profiler.stop(dir / "trace.json");
  const auto& ops = profile.host_ops;
  CHECK(profile.device_kernels.empty());
  CHECK_FALSE(profiler.running());
  CHECK(op(ops, "aten::mm").calls == 3);
  CHECK(op(ops, "aten::mm").self_ms > 0.0);
  const auto trace = nlohmann::json::parse(read_text(dir / "trace.json"));
  bool has_mm = false;
  for (const auto& event : trace["traceEvents"]) has_mm = has_mm || event.value("name", "") == "aten::mm";
  CHECK(has_mm);
  CHECK_THROWS_WITH(profiler.stop(dir / "again.json"), Contains("not running"));
}
