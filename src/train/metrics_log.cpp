#include "train/metrics_log.h"

#include <sys/resource.h>

#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "core/error.h"
#include "ctxext/build_info.h"
#if CTXEXT_WITH_CUDA
#include <c10/cuda/CUDACachingAllocator.h>
#endif

namespace ctxext {

MetricsLog::MetricsLog(const std::filesystem::path& file, int64_t resume_step) {
  std::vector<std::string> kept;
  if (std::ifstream in(file); in) {
    for (std::string line; std::getline(in, line);) {
      if (line.empty()) continue;
      const auto row = nlohmann::json::parse(line, nullptr, false);
      if (!row.is_discarded() && row.contains("step") && row["step"].get<int64_t>() <= resume_step)
        kept.push_back(line);
    }
  }
  out_.open(file, std::ios::trunc);
  if (!out_) fail("{}: cannot write metrics", file.string());
  for (const auto& line : kept) out_ << line << '\n';
  out_.flush();
}

void MetricsLog::append(const StepMetrics& m) {
  nlohmann::json row = {{"step", m.step},           {"loss", m.loss},
                        {"lr", m.lr},               {"grad_norm", m.grad_norm},
                        {"tokens", m.tokens},       {"tokens_per_s", m.tokens_per_s},
                        {"peak_mem_mb", m.peak_mem_mb}, {"skipped", m.skipped}};
  if (m.peak_alloc_mb >= 0) row["peak_alloc_mb"] = m.peak_alloc_mb;
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

}  // namespace ctxext
