#include "train/metrics_log.h"

#include <sys/resource.h>

#include <fmt/format.h>

#include <algorithm>
#include <ctime>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "core/error.h"
#include "ctxext/build_info.h"
#if CTXEXT_WITH_CUDA
#include <c10/cuda/CUDACachingAllocator.h>
#endif

namespace ctxext::train {

namespace {

// "2026-11-30T00:01:02.345Z"
std::string utc_timestamp() {
  const auto now = std::chrono::system_clock::now();
  const std::time_t seconds = std::chrono::system_clock::to_time_t(now);
  const auto millis = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() % 1000;
  std::tm utc{};
  gmtime_r(&seconds, &utc);
  char text[32];
  std::strftime(text, sizeof(text), "%Y-%m-%dT%H:%M:%S", &utc);
  return fmt::format("{}.{:03}Z", text, millis);
}

double per_second(int64_t count, double seconds) { return static_cast<double>(count) / std::max(seconds, 1e-9); }

}  // namespace

void StepMetrics::set_step_seconds(double seconds) {
  step_s = seconds;
  tokens_per_s = per_second(tokens, seconds);
}

int64_t count_tokens(const std::vector<data::Sample>& samples, const std::vector<int64_t>& indices) {
  int64_t total = 0;
  for (int64_t i : indices) total += samples.at(static_cast<size_t>(i)).size();
  return total;
}

MetricsLog::MetricsLog(const std::filesystem::path& file, int64_t resume_step) {
  std::vector<std::string> kept;
  if (std::ifstream in(file); in) {
    for (std::string line; std::getline(in, line);) {
      if (line.empty()) continue;
      const auto row = nlohmann::json::parse(line, nullptr, false);
      if (row.is_discarded() || !row.contains("step") || row["step"].get<int64_t>() > resume_step) continue;
      kept.push_back(line);
      if (row.contains("elapsed_s") && row["elapsed_s"].is_number()) elapsed_before_ = row["elapsed_s"].get<double>();
    }
  }
  out_.open(file, std::ios::trunc);
  if (!out_) fail("{}: cannot write metrics", file.string());
  for (const auto& line : kept) out_ << line << '\n';
  out_.flush();
}

void MetricsLog::append(const StepMetrics& m) {
  const double elapsed = elapsed_before_ + std::chrono::duration<double>(std::chrono::steady_clock::now() - opened_).count();
  nlohmann::json row = {{"step", m.step},
                        {"loss", m.loss},
                        {"lr", m.lr},
                        {"grad_norm", m.grad_norm},
                        {"tokens", m.tokens},
                        {"tokens_per_s", m.tokens_per_s},
                        {"supervised_tokens_per_s", m.tokens_per_s},
                        {"processed_tokens", m.processed_tokens},
                        {"processed_tokens_per_s", per_second(m.processed_tokens, m.step_s)},
                        {"step_s", m.step_s},
                        {"time", utc_timestamp()},
                        {"elapsed_s", elapsed},
                        {"peak_mem_mb", m.peak_mem_mb},
                        {"skipped", m.skipped}};
  if (m.peak_alloc_mb >= 0) row["peak_alloc_mb"] = m.peak_alloc_mb;
  if (m.eval_loss) {
    row["eval_loss"] = *m.eval_loss;
    row["eval_tokens"] = m.eval_tokens;
  }
  out_ << row.dump() << '\n';
  out_.flush();
}

double peak_memory_mb(bool cuda) {
#if CTXEXT_WITH_CUDA
  if (cuda) {
    const auto stats = c10::cuda::CUDACachingAllocator::getDeviceStats(0);
    return static_cast<double>(stats.allocated_bytes[0].peak) / (1024.0 * 1024.0);
  }
#endif
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return static_cast<double>(usage.ru_maxrss) / 1024.0;  // ru_maxrss is in KiB on Linux
}

}  // namespace ctxext::train
