// The whole YAML config of a job, parsed into every layer's typed options. Unknown keys anywhere
// are errors. Each layer owns its section's struct and parser; this file only assembles them.
#pragma once
#include <string>
#include <vector>

#include <c10/core/DeviceType.h>

#include "core/config.h"
#include "data/data_options.h"
#include "recipes/model_options.h"
#include "rope/rope_options.h"
#include "train/train_options.h"

namespace ctxext::recipes {

struct RuntimeOptions {
  int threads = 0;             // intra-op threads; 0 = all cores
  torch::DeviceType device = torch::kCPU;  // runtime.device: cpu | cuda (the CUDA index is the rank's LOCAL_RANK)
  int64_t seed = 0;
  int64_t dist_timeout_s = 300;  // a collective or the rendezvous waiting longer fails the job
};

RuntimeOptions parse_runtime_options(const ConfigNode& node);

struct ExportSectionOptions {
  bool enabled = true;                          // write <output_dir>/export at the end
  int64_t max_shard_bytes = int64_t(5) << 30;   // shard the safetensors above this size
};

ExportSectionOptions parse_export_options(const ConfigNode& node);

struct JobConfig {
  ModelOptions model;
  rope::RopeOptions rope;            // over the model's own RoPE settings (rope.type none: unchanged)
  bool rope_given = false;     // the config has a rope: section
  data::DataOptions data;
  train::TrainOptions train;
  train::CheckpointOptions checkpoint;
  ExportSectionOptions export_options;
  RuntimeOptions runtime;
  std::string output_dir;
  std::string resume = "auto";  // auto | none | a checkpoint folder
  // Keys that change what was trained and may differ from the resumed checkpoint's config anyway
  // (recipes/resume_guard.h); each must be a key the config has.
  std::vector<std::string> resume_allow_changed;
  std::string summary() const;
  // data.tokenizer, else the model folder's tokenizer.model; empty when neither is given.
  std::string tokenizer_path() const;
};

// The RoPE settings the `rope:` section applies over: model.path's config.json (built-in defaults when
// the folder has none yet: loading the weights then fails on its own), or the preset's.
rope::RopeOptions model_rope_defaults(const ModelOptions& model);

// Parses every section once: the model first, then `rope:` over model_rope_defaults(), then the rest.
JobConfig parse_job_config(const Config& config);

}  // namespace ctxext::recipes
