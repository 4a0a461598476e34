// <output_dir>/metrics.jsonl: one JSON row per optimizer step, flushed as it is written. Each row:
// step, loss, lr, grad_norm, skipped, peak_mem_mb (peak_alloc_mb with CTXEXT_COUNT_ALLOC=1);
// tokens / supervised_tokens_per_s: supervised targets of the global batch and their rate
// (tokens_per_s: the same rate under its older name, which the benchmark scripts read);
// processed_tokens / processed_tokens_per_s: every token the model ran on (padding excluded);
// step_s: the step's wall time; time: when the row was written (UTC, ISO 8601); elapsed_s: seconds
// of training since the run began, resumed runs continuing from the last row kept; eval_loss /
// eval_tokens on the steps that scored the held-out samples (train.eval_every): their mean
// next-token loss and the supervised targets it is over.
#pragma once
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <optional>
#include <vector>

#include "data/sample.h"

namespace ctxext::train {

struct StepMetrics {
  int64_t step = 0;        // 1-based optimizer step
  double loss = 0.0;       // mean NLL per supervised token of the global batch
  double lr = 0.0;
  double grad_norm = 0.0;  // before clipping
  int64_t tokens = 0;      // supervised tokens in this step
  int64_t processed_tokens = 0;  // every token of the step's global batch, padding excluded
  double step_s = 0.0;     // wall time of the step
  double tokens_per_s = 0.0;  // supervised tokens per second
  double peak_mem_mb = 0.0;
  double peak_alloc_mb = -1.0;  // CTXEXT_COUNT_ALLOC=1: peak live CPU tensor MiB so far (train/alloc_counter.h); < 0: not written
  bool skipped = false;    // non-finite loss/gradient, skipped under nan_policy: skip
  std::optional<double> eval_loss;  // held-out mean NLL per supervised target, on evaluated steps only
  int64_t eval_tokens = 0;          // supervised targets of the held-out samples

  // Sets step_s and the supervised rate.
  void set_step_seconds(double seconds);
};

// The tokens a batch of `samples` at `indices` holds (their lengths; padding is not counted).
int64_t count_tokens(const std::vector<data::Sample>& samples, const std::vector<int64_t>& indices);

class MetricsLog {
 public:
  // Opens for appending. Rows of steps after `resume_step` (written before a crash, after the
  // checkpoint that is resumed) are dropped first, so every step appears once.
  MetricsLog(const std::filesystem::path& file, int64_t resume_step);
  void append(const StepMetrics& m);

 private:
  std::ofstream out_;
  double elapsed_before_ = 0.0;  // elapsed_s of the last row kept from an earlier process
  std::chrono::steady_clock::time_point opened_ = std::chrono::steady_clock::now();
};

// Peak resident memory of this process (CPU) or peak CUDA allocation, in MiB.
double peak_memory_mb(bool cuda);

}  // namespace ctxext::train
