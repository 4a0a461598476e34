// Op-level profile of training steps (`ctxext train CONFIG --profile-steps N`): LibTorch's Kineto
// profiler records every ATen and ctxext op the steps run; the table sums each op's self time (its
// time minus the ops it called), so "where does a step go" adds up to the step's wall time and a
// fused kernel's matmuls show under aten::mm, not under the kernel that called them.
#pragma once
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace ctxext::train {

// One op name's totals over the profiled steps.
struct OpTime {
  std::string name;
  int64_t calls = 0;
  double self_ms = 0;  // own time, nested ops excluded, summed over threads
};

// The coarse bucket an op's self time is reported under: "matmul", "attention", "ctxext kernels",
// "optimizer", "other".
std::string op_category(const std::string& op_name);

// The same buckets for a device kernel by its (demangled) name — cuBLAS/CUTLASS GEMMs, flash / memory-
// efficient attention, ctxext's own kernels (csrc_cuda/), the fused AdamW — plus "copies" (memcpy, memset).
std::string kernel_category(const std::string& kernel_name);

// What one profile found: host-side ops by self time; on CUDA also the device's kernels and copies by
// their summed duration (empty on a CPU run). Both sorted largest first.
struct Profile {
  std::vector<OpTime> host_ops;
  std::vector<OpTime> device_kernels;
};

// Self time per op from (thread, start, end, name) intervals: nested intervals on one thread are
// children of the innermost interval that contains them. Exposed for the test.
struct OpInterval {
  uint64_t thread = 0;
  uint64_t start_ns = 0;
  uint64_t end_ns = 0;
  std::string name;
};
std::vector<OpTime> self_times(std::vector<OpInterval> intervals);

class StepProfiler {
 public:
  explicit StepProfiler(bool cuda);  // cuda: record the device's kernels as well
  StepProfiler(const StepProfiler&) = delete;
  StepProfiler& operator=(const StepProfiler&) = delete;
  ~StepProfiler();  // stops a profile still running (its events are dropped)

  void start();
  bool running() const { return running_; }
  // Stops and writes the Chrome trace (chrome://tracing, ui.perfetto.dev) to `trace_file`.
  Profile stop(const std::filesystem::path& trace_file);

 private:
  bool cuda_;
  bool running_ = false;
};

// The table written to profile-rank<R>.txt and logged: one row per op (the largest `rows`), per step
// averages over `steps` steps whose wall time summed to `wall_ms`, then the categories' totals; the
// same for the device kernels when there are any (their time as a share of the step: the GPU's busy
// share, streams summed).
std::string format_profile(const Profile& profile, int64_t steps, double wall_ms, size_t rows);

}  // namespace ctxext::train
