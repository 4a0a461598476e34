// <export>/ctxext_training.json: how a trained HF folder was made. Written by `train` inside the
// atomic export (never by `ctxext export`, which trains nothing). Fields:
//   ctxext_version, written_utc (ISO 8601), steps (optimizer steps done), skipped_steps,
//   final_loss (step `steps`'s loss from metrics.jsonl; null when not finite or not logged),
//   data {path, bytes, crc32c (8 hex digits, CRC-32C of the whole file)},
//   config_yaml (the resolved config, overrides applied).
#pragma once
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>

#include "core/config.h"
#include "recipes/job_config.h"

namespace ctxext::recipes {

// The loss metrics.jsonl records for `step`; nullopt when no row has it or its loss is not a number.
std::optional<double> logged_loss(const std::filesystem::path& metrics_file, int64_t step);

// The JSON text of ctxext_training.json.
std::string training_record_json(const Config& config, const JobConfig& job, int64_t steps, int64_t skipped_steps,
                                 std::optional<double> final_loss);

}  // namespace ctxext::recipes
