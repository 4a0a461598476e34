#include "train/step_profiler.h"

#include <torch/csrc/autograd/profiler_kineto.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <functional>
#include <map>
#include <set>
#include <unordered_map>

#include <fmt/format.h>

#include "core/error.h"

namespace ctxext::train {

namespace {

namespace kineto = torch::autograd::profiler;
using torch::profiler::impl::ActivityType;
using torch::profiler::impl::ProfilerConfig;
using torch::profiler::impl::ProfilerState;

std::set<ActivityType> activities(bool cuda) {
  std::set<ActivityType> set{ActivityType::CPU};
  if (cuda) set.insert(ActivityType::CUDA);
  return set;
}

bool starts_with(const std::string& s, const char* prefix) { return s.rfind(prefix, 0) == 0; }

}  // namespace

std::string op_category(const std::string& name) {
  static const std::set<std::string> matmuls{"aten::mm",      "aten::addmm",   "aten::addmm_",  "aten::bmm",
                                             "aten::baddbmm", "aten::baddbmm_", "aten::addbmm", "aten::addbmm_",
                                             "aten::matmul",  "aten::linear",  "aten::dot"};
  if (matmuls.count(name)) return "matmul";
  if (name.find("scaled_dot_product") != std::string::npos || name.find("flash_attention") != std::string::npos ||
      name.find("efficient_attention") != std::string::npos)
    return "attention";
  if (starts_with(name, "ctxext::")) return "ctxext kernels";
  if (name.find("adam") != std::string::npos || starts_with(name, "aten::_foreach_")) return "optimizer";
  return "other";
}

std::string kernel_category(const std::string& kernel_name) {
  std::string name(kernel_name.size(), ' ');
  std::transform(kernel_name.begin(), kernel_name.end(), name.begin(), [](unsigned char c) { return std::tolower(c); });
  const auto has = [&](const char* part) { return name.find(part) != std::string::npos; };
  if (has("memcpy") || has("memset")) return "copies";
  if (has("ctxext::")) return "ctxext kernels";
  if (has("flash") || has("fmha") || has("attention")) return "attention";
  if (has("gemm") || has("cutlass") || has("xmma") || has("cublas") || has("nvjet")) return "matmul";
  if (has("adam") || has("multi_tensor_apply")) return "optimizer";
  return "other";
}

std::vector<OpTime> self_times(std::vector<OpInterval> intervals) {
  // Per thread, outer intervals first: by start, and the longer one first when two start together.
  std::sort(intervals.begin(), intervals.end(), [](const OpInterval& a, const OpInterval& b) {
    if (a.thread != b.thread) return a.thread < b.thread;
    if (a.start_ns != b.start_ns) return a.start_ns < b.start_ns;
    return a.end_ns > b.end_ns;
  });
  std::vector<double> self_ns(intervals.size());
  std::vector<size_t> open;  // indices of the enclosing intervals, innermost last
  for (size_t i = 0; i < intervals.size(); ++i) {
    const auto& iv = intervals[i];
    if (i > 0 && intervals[i - 1].thread != iv.thread) open.clear();
    while (!open.empty() && intervals[open.back()].end_ns <= iv.start_ns) open.pop_back();
    self_ns[i] = static_cast<double>(iv.end_ns - iv.start_ns);
    if (!open.empty()) {
      // A child's time is not its parent's own; clipped at the parent's end should they overlap.
      const auto& parent = intervals[open.back()];
      self_ns[open.back()] -= static_cast<double>(std::min(iv.end_ns, parent.end_ns) - iv.start_ns);
    }
    open.push_back(i);
  }
  std::unordered_map<std::string, OpTime> by_name;
  for (size_t i = 0; i < intervals.size(); ++i) {
    auto& op = by_name[intervals[i].name];
    op.name = intervals[i].name;
    op.calls += 1;
    op.self_ms += self_ns[i] / 1e6;
  }
  std::vector<OpTime> ops;
  ops.reserve(by_name.size());
  for (auto& [name, op] : by_name) ops.push_back(std::move(op));
  std::sort(ops.begin(), ops.end(), [](const OpTime& a, const OpTime& b) {
    return a.self_ms != b.self_ms ? a.self_ms > b.self_ms : a.name < b.name;
  });
  return ops;
}

StepProfiler::StepProfiler(bool cuda) : cuda_(cuda) {}

StepProfiler::~StepProfiler() {
  if (running_) kineto::disableProfiler();
}

void StepProfiler::start() {
  if (running_) fail("profiler: already running");
  // A CPU run under the CUDA build of LibTorch: Kineto's set-up logs "ERROR: gpuGetDeviceCount failed"
  // when there is no GPU, which is no error here. Its log level is read when it starts; a level the
  // user set is kept.
  if (!cuda_) setenv("KINETO_LOG_LEVEL", "5", /*overwrite=*/0);
  const ProfilerConfig config(ProfilerState::KINETO);
  kineto::prepareProfiler(config, activities(cuda_));
  kineto::enableProfiler(config, activities(cuda_));
  running_ = true;
}

Profile StepProfiler::stop(const std::filesystem::path& trace_file) {
  if (!running_) fail("profiler: not running");
  running_ = false;
  const auto result = kineto::disableProfiler();
  std::vector<OpInterval> intervals;
  std::map<std::string, OpTime> kernels;  // device activities do not nest: their whole duration
  for (const auto& event : result->events()) {
    if (event.endNs() < event.startNs()) continue;
    if (event.deviceType() == c10::DeviceType::CPU) {
      intervals.push_back({event.startThreadId(), event.startNs(), event.endNs(), event.name()});
    } else {
      auto& kernel = kernels[event.name()];
      kernel.name = event.name();
      kernel.calls += 1;
      kernel.self_ms += static_cast<double>(event.durationNs()) / 1e6;
    }
  }
  const auto tmp = trace_file.string() + ".tmp";
  result->save(tmp);
  std::filesystem::rename(tmp, trace_file);
  Profile profile{self_times(std::move(intervals)), {}};
  for (auto& [name, kernel] : kernels) profile.device_kernels.push_back(std::move(kernel));
  std::sort(profile.device_kernels.begin(), profile.device_kernels.end(),
            [](const OpTime& a, const OpTime& b) { return a.self_ms > b.self_ms; });
  return profile;
}

namespace {

// Rows of one table (op or kernel, per step), then its categories; returns the time it covers per step.
double format_rows(std::string& out, const std::vector<OpTime>& ops, double n, double step_ms, size_t rows,
                   const std::function<std::string(const std::string&)>& category) {
  const auto share = [&](double ms) { return step_ms > 0 ? 100.0 * ms / step_ms : 0.0; };
  out += fmt::format("  {:>12}  {:>7}  {:>10}  {}\n", "ms/step", "% step", "calls/step", "name");
  std::map<std::string, double> categories;
  double covered = 0;
  for (size_t i = 0; i < ops.size(); ++i) {
    const double ms = ops[i].self_ms / n;
    categories[category(ops[i].name)] += ms;
    covered += ms;
    if (i < rows) {
      // Kernel names can run to hundreds of characters of template arguments.
      const auto name = ops[i].name.size() > 110 ? ops[i].name.substr(0, 107) + "..." : ops[i].name;
      out += fmt::format("  {:>12.2f}  {:>6.1f}%  {:>10.1f}  {}\n", ms, share(ms),
                         static_cast<double>(ops[i].calls) / n, name);
    }
  }
  if (ops.size() > rows) out += fmt::format("  ... {} more in the categories below\n", ops.size() - rows);
  out += "by category (ms per step, % of the step's wall time):\n";
  for (const auto& [name, ms] : categories) out += fmt::format("  {:<16} {:>9.2f}  {:>6.1f}%\n", name, ms, share(ms));
  return covered;
}

}  // namespace

std::string format_profile(const Profile& profile, int64_t steps, double wall_ms, size_t rows) {
  const double n = static_cast<double>(std::max<int64_t>(1, steps));
  const double step_ms = wall_ms / n;
  const auto share = [&](double ms) { return step_ms > 0 ? 100.0 * ms / step_ms : 0.0; };
  std::string out = fmt::format(
      "profile: {} step(s), {:.1f} ms wall ({:.1f} ms per step); host ops by self time (nested ops excluded), "
      "per step\n",
      steps, wall_ms, step_ms);
  const double in_ops = format_rows(out, profile.host_ops, n, step_ms, rows, op_category);
  out += fmt::format("  {:<16} {:>9.2f}  {:>6.1f}%  (wall time outside any recorded op: C++ glue, waits)\n",
                     "outside ops", step_ms - in_ops, share(step_ms - in_ops));
  if (profile.device_kernels.empty()) return out;
  out += "device kernels and copies by duration (streams summed), per step\n";
  const double busy = format_rows(out, profile.device_kernels, n, step_ms, rows, kernel_category);
  out += fmt::format("  {:<16} {:>9.2f}  {:>6.1f}%  (wall time minus device time: the device idle, streams "
                     "overlapping, or both)\n",
                     "device idle", step_ms - busy, share(step_ms - busy));
  return out;
}

}  // namespace ctxext::train
