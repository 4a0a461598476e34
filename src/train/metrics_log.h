// <output_dir>/metrics.jsonl: one JSON row per optimizer step, flushed as it is written.
#pragma once
#include <cstdint>
#include <filesystem>
#include <fstream>

namespace ctxext {

struct StepMetrics {
  int64_t step = 0;        // 1-based optimizer step
  double loss = 0.0;       // mean NLL per supervised token of the global batch
  double lr = 0.0;
  double grad_norm = 0.0;  // before clipping
  int64_t tokens = 0;      // supervised tokens in this step
  double tokens_per_s = 0.0;
  double peak_mem_mb = 0.0;
  double peak_alloc_mb = -1.0;  // CTXEXT_COUNT_ALLOC=1: peak live CPU tensor MiB so far (train/alloc_counter.h); < 0: not written
  bool skipped = false;    // non-finite loss/gradient, skipped under nan_policy: skip
};

class MetricsLog {
 public:
  // Opens for appending. Rows of steps after `resume_step` (written before a crash, after the
  // checkpoint that is resumed) are dropped first, so every step appears once.
  MetricsLog(const std::filesystem::path& file, int64_t resume_step);
  void append(const StepMetrics& m);

 private:
  std::ofstream out_;
};

// Peak resident memory of this process (CPU) or peak CUDA allocation, in MiB.
double peak_memory_mb(bool cuda);

}  // namespace ctxext
